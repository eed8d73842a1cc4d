#!/usr/bin/env bash
# Builds Lumen's WebAssembly modules and copies them to wasm/<name>.wasm (committed).
#
#   bash wasm/build.sh            rebuild every module in place
#   bash wasm/build.sh --check    rebuild into a temp folder; fail if any byte differs from the
#                                 committed wasm/<name>.wasm (CI runs this)
#   bash wasm/build.sh NAME...    only these modules (either mode)
#
# Toolchain (Debian 12): `apt-get install rustc cargo
# libstd-rust-dev-wasm32 lld-14 wabt` (lld-14 provides the rust-lld that rustc links wasm with).
# Debian's rustc is called explicitly: rustup's proxy (first on PATH on some machines) has no
# wasm32 target.
#
# Adding a module: append a line to MODULES below (a Rust crate is `no_std`, crate-type cdylib,
# no dependencies, and commits its Cargo.lock: `cargo generate-lockfile --offline`).
#   rust:<crate dir under wasm/>:<RUSTFLAGS extra, may be empty>   → wasm/<crate>.wasm
#   wat:<file under wasm/, .wat>:<wat2wasm flags>                   → wasm/<stem>.wasm
# e.g. "rust:engine:-C target-feature=+atomics,+bulk-memory,+mutable-globals
#        -C link-arg=--shared-memory -C link-arg=--import-memory ..."
#      "wat:stripes/gemm.wat:--enable-relaxed-simd"
#
# Determinism: the bytes must not depend on where the clone lives or who builds it, so paths are
# remapped (--remap-path-prefix), debug info is stripped (profile.release strip = true), and
# nothing reads the clock. Cargo writes into a target folder under a temp dir or
# wasm/<crate>/target (gitignored).
set -euo pipefail

MODULES=(
  "rust:tomo:"
  "rust:engine:-C target-feature=+atomics,+bulk-memory,+mutable-globals -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 -C link-arg=--no-check-features -C link-arg=--export=__heap_base -C link-arg=--export=__stack_pointer -C link-arg=-zstack-size=1048576"
  "rust:stripes:"
  "rust:diffsims:"
  "wat:gemm/gemm_relaxed.wat:--enable-relaxed-simd --enable-threads"
  "wat:gemm/gemm_simd.wat:--enable-threads"
)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUSTC_BIN="${RUSTC_BIN:-/usr/bin/rustc}"
CARGO_BIN="${CARGO_BIN:-/usr/bin/cargo}"
WAT2WASM_BIN="${WAT2WASM_BIN:-wat2wasm}"
BASE_RUSTFLAGS="-C target-feature=+simd128 -C debuginfo=0 -C strip=debuginfo"

check=0
only=()
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    -h | --help)
      sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "wasm/build.sh: unknown flag $a" >&2
      exit 2
      ;;
    *) only+=("$a") ;;
  esac
done

work="$(mktemp -d "${TMPDIR:-/tmp}/lumen-wasm.XXXXXX")"
trap 'rm -rf "$work"' EXIT

wanted() {
  [ ${#only[@]} -eq 0 ] && return 0
  local n
  for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

build_rust() { # crate extra_flags out
  local crate="$1" extra="$2" out="$3"
  local dir="$HERE/$crate"
  [ -f "$dir/Cargo.toml" ] || {
    echo "wasm/build.sh: $dir/Cargo.toml: missing" >&2
    exit 1
  }
  [ -x "$RUSTC_BIN" ] || {
    echo "wasm/build.sh: $RUSTC_BIN: not found (apt-get install rustc cargo libstd-rust-dev-wasm32)" >&2
    exit 1
  }
  # Debian's rustc links wasm with /usr/bin/rust-lld, a link to lld-14, which rustc does not
  # pull in (apt-get --no-install-recommends leaves the link dangling).
  if [ "$RUSTC_BIN" = /usr/bin/rustc ] && ! [ -e /usr/bin/rust-lld ]; then
    echo "wasm/build.sh: /usr/bin/rust-lld is missing or dangling (apt-get install lld-14)" >&2
    exit 1
  fi
  local target
  if [ "$check" = 1 ]; then target="$work/target-$crate"; else target="$dir/target"; fi
  local flags="$BASE_RUSTFLAGS --remap-path-prefix=$dir=/lumen/wasm/$crate"
  flags+=" --remap-path-prefix=$HERE=/lumen/wasm --remap-path-prefix=$target=/lumen/target"
  flags+=" --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
  [ -n "$extra" ] && flags+=" $extra"
  (
    cd "$dir"
    # Only these variables reach cargo: the same bytes whatever the caller's environment holds.
    env -i PATH="/usr/bin:/bin" HOME="${HOME:-/tmp}" \
      CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" CARGO_NET_OFFLINE=true \
      RUSTC="$RUSTC_BIN" RUSTFLAGS="$flags" CARGO_TARGET_DIR="$target" \
      SOURCE_DATE_EPOCH=0 \
      "$CARGO_BIN" build --quiet --release --locked --target wasm32-unknown-unknown
  )
  local name
  name="$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n1 | tr '-' '_')"
  cp "$target/wasm32-unknown-unknown/release/$name.wasm" "$out"
}

build_wat() { # file flags out
  local src="$HERE/$1" flags="$2" out="$3"
  command -v "$WAT2WASM_BIN" > /dev/null || {
    echo "wasm/build.sh: wat2wasm not found (apt-get install wabt)" >&2
    exit 1
  }
  # shellcheck disable=SC2086
  "$WAT2WASM_BIN" $flags "$src" -o "$out"
}

# wasm/gemm/*.wat are written by wasm/gemm/gen_wat.ts: regenerate them (build), or fail when
# the committed ones differ from its output (--check).
gen_gemm_wat() {
  wanted gemm_relaxed || wanted gemm_simd || return 0
  local deno=()
  if [ -n "${DENO_BIN:-}" ]; then
    deno=("$DENO_BIN")
  elif command -v deno > /dev/null; then
    deno=(deno)
  elif command -v npx > /dev/null; then
    deno=(npx -y deno@2.9.6) # as .ci/run gets it
  else
    echo "wasm/build.sh: deno not found (needed to generate wasm/gemm/*.wat)" >&2
    exit 1
  fi
  mkdir -p "$work/gemm"
  "${deno[@]}" run --quiet --no-config --allow-write="$work/gemm" "$HERE/gemm/gen_wat.ts" "$work/gemm"
  local f
  for f in "$work"/gemm/*.wat; do
    if [ "$check" = 1 ]; then
      if ! cmp -s "$f" "$HERE/gemm/$(basename "$f")"; then
        echo "wasm/gemm/$(basename "$f"): differs from wasm/gemm/gen_wat.ts's output (run: deno task build:wasm)" >&2
        status=1
      fi
    else
      cp "$f" "$HERE/gemm/$(basename "$f")"
    fi
  done
}

status=0
gen_gemm_wat
for m in "${MODULES[@]}"; do
  IFS=':' read -r kind path extra <<< "$m"
  case "$kind" in
    rust) name="$path" ;;
    wat) name="$(basename "$path" .wat)" ;;
    *)
      echo "wasm/build.sh: MODULES: unknown kind '$kind' in '$m'" >&2
      exit 2
      ;;
  esac
  wanted "$name" || continue
  committed="$HERE/$name.wasm"
  built="$work/$name.wasm"
  if [ "$kind" = rust ]; then build_rust "$path" "$extra" "$built"; else build_wat "$path" "$extra" "$built"; fi
  if [ "$check" = 1 ]; then
    if [ ! -f "$committed" ]; then
      echo "wasm/$name.wasm: missing (run: deno task build:wasm, then commit it)" >&2
      status=1
    elif cmp -s "$built" "$committed"; then
      echo "wasm/$name.wasm: matches its source ($(wc -c < "$built") bytes)"
    else
      echo "wasm/$name.wasm: differs from a rebuild of its source (run: deno task build:wasm, then commit it)" >&2
      status=1
    fi
  else
    cp "$built" "$committed"
    echo "wasm/$name.wasm: $(wc -c < "$committed") bytes, sha256 $(sha256sum "$committed" | cut -c1-16)"
  fi
done
exit "$status"
