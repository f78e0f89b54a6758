#!/usr/bin/env bash
# The installed library as a user gets it: `cmake --install` into a fresh prefix, then, from that
# prefix only (never the build tree):
#   - the C example built with `pkg-config --cflags --libs pocket` under -std=c99 -pedantic -Werror,
#     and again linked statically against libpocket.a (plus the private system libraries);
#   - the C++ example configured with CMake's find_package(Pocket);
#   - both answer exactly what the installed `pocket run` prints (greedy, same model and image);
#   - libpocket.so has a SONAME and exports only pocket_* symbols.
# Usage: install_check.sh BUILD_DIR SOURCE_DIR SHARED_DIR
set -euo pipefail
build=$1 src=$2 shared=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
libdir=$(dirname "$(find "$prefix" -name pocket.pc)")/..
export PKG_CONFIG_PATH=$libdir/pkgconfig
fail() { echo "FAIL: $*" >&2; exit 1; }

test -f "$prefix/include/pocket.h" || fail "no include/pocket.h under the prefix"
soname=$(readelf -d "$libdir/libpocket.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libpocket.so.0 ] || fail "SONAME is '$soname', expected libpocket.so.0"
test -f "$libdir/libpocket.a" || fail "no static libpocket.a"
others=$(nm -D --defined-only "$libdir/libpocket.so" | awk '{print $NF}' | grep -v '^pocket_' || true)
[ -z "$others" ] || fail "libpocket.so exports symbols beyond pocket_*: $(echo "$others" | head -5)"

model=$shared/models/tiny-smol-f16.gguf
mmproj=$shared/models/smolvlm2-small-tiny-mmproj.gguf
image=$shared/images/tiny_32x24.png
question="What is in this image?"
expected=$("$prefix/bin/pocket" run -q -m "$model" --mmproj "$mmproj" --image "$image" -p "$question" -n 12 --temp 0)

cc -std=c99 -Wall -Wextra -Werror -pedantic "$src/examples/c/ask_image.c" -o "$work/ask_image" \
  $(pkg-config --cflags --libs pocket) -Wl,-rpath,"$libdir"
got=$("$work/ask_image" "$model" "$mmproj" "$image" "$question" 12 2>/dev/null)
[ "$got" = "$expected" ] || fail "C example (shared) answered '$got', pocket run '$expected'"

# Static: libpocket.a plus the (shared) system libraries pocket.pc lists as private.
cc -std=c99 -Wall -Wextra -Werror -pedantic $(pkg-config --cflags pocket) "$src/examples/c/ask_image.c" \
  -o "$work/ask_image_static" "$libdir/libpocket.a" \
  $(pkg-config --libs $(pkg-config --variable=private_requires pocket)) $(pkg-config --variable=private_libs pocket)
if readelf -d "$work/ask_image_static" | grep -q 'libpocket'; then fail "static example still needs libpocket.so"; fi
got=$("$work/ask_image_static" "$model" "$mmproj" "$image" "$question" 12 2>/dev/null)
[ "$got" = "$expected" ] || fail "C example (static) answered '$got', pocket run '$expected'"

cmake -S "$src/examples/cpp" -B "$work/cpp" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > "$work/cpp.log"
cmake --build "$work/cpp" > "$work/cpp-build.log" || { cat "$work/cpp-build.log"; fail "C++ example did not build"; }
got=$("$work/cpp/ask_image" "$model" "$mmproj" "$image" "$question" 12 2>/dev/null)
[ "$got" = "$expected" ] || fail "C++ example answered '$got', pocket run '$expected'"
echo "install check passed: $prefix (SONAME $soname, $(nm -D --defined-only "$libdir/libpocket.so" | wc -l) exported symbols)"
