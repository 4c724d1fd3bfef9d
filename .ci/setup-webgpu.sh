#!/usr/bin/env bash
# .ci/setup-webgpu.sh — make WebGPU usable on a GPU-less Debian 12 machine (local or CI).
#
# What it does (idempotent; safe to run any number of times):
#   1. Installs the Debian packages `chromium` and `libvulkan1` if either is missing
#      (one quiet `apt-get update`, only when something must be installed; needs root).
#      Chromium ships SwiftShader, a CPU Vulkan driver that Dawn accepts
#      (Debian's mesa lavapipe 22.3 is rejected by Dawn).
#   2. Checks that /usr/lib/chromium/vk_swiftshader_icd.json exists.
#   3. Prints the environment lines on stdout; all log messages go to stderr.
#
# Usage — either of:
#   eval "$(.ci/setup-webgpu.sh)"       # run it, import the exports into this shell
#   source .ci/setup-webgpu.sh          # same effect (exports are set and also printed)
#   GitHub Actions step:  .ci/setup-webgpu.sh | sed 's/^export //' >> "$GITHUB_ENV"
#   (values contain no spaces/quotes, so stripping `export ` gives valid KEY=VALUE lines)
#
# Then: node scripts/webgpu-probe.mjs   (Dawn via the `webgpu` npm package)
#       node scripts/browser-probe.mjs  (headless /usr/bin/chromium via playwright-core)
#
# Exported variables:
#   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json  Dawn uses SwiftShader
#   XDG_RUNTIME_DIR=<private 0700 temp dir>   silences Dawn's "XDG_RUNTIME_DIR is invalid"
#                                             (kept if already set to a usable directory)

_tg_webgpu_setup() {
  local icd=/usr/lib/chromium/vk_swiftshader_icd.json
  local pkgs=(chromium libvulkan1)
  local missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup-webgpu: installing ${missing[*]} ..." >&2
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
      if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "setup-webgpu: need root (or sudo) to install ${missing[*]}" >&2; return 1; fi
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      "${missing[@]}" >&2 || return 1
  else
    echo "setup-webgpu: ${pkgs[*]} already installed" >&2
  fi
  if [ ! -f "$icd" ]; then
    echo "setup-webgpu: $icd not found (chromium package without SwiftShader?)" >&2
    return 1
  fi
  local xdg="${XDG_RUNTIME_DIR:-}"
  if [ -z "$xdg" ] || [ ! -d "$xdg" ] || [ ! -w "$xdg" ]; then
    # one stable private dir per user, so repeated runs do not pile up temp dirs
    xdg="${TMPDIR:-/tmp}/tapegrad-xdg-$(id -u)"
    mkdir -p -m 700 "$xdg" 2>/dev/null || true
    if [ ! -O "$xdg" ] || [ "$(stat -c %a "$xdg")" != 700 ]; then
      xdg="$(mktemp -d "${TMPDIR:-/tmp}/tapegrad-xdg.XXXXXX")" || return 1   # someone else owns it
    fi
  fi
  export VK_ICD_FILENAMES="$icd"
  export XDG_RUNTIME_DIR="$xdg"
  printf 'export VK_ICD_FILENAMES=%q\n' "$VK_ICD_FILENAMES"
  printf 'export XDG_RUNTIME_DIR=%q\n' "$XDG_RUNTIME_DIR"
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # sourced: do not `set -e` or `exit` in the caller's shell
  _tg_webgpu_setup
  _tg_rc=$?; unset -f _tg_webgpu_setup; return $_tg_rc
else
  set -euo pipefail
  _tg_webgpu_setup
fi
