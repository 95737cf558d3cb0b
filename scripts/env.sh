# Sourced by the other scripts: puts the tools scripts/setup installs on PATH.
NSLAB_TOOLS="${NSLAB_TOOLS:-$HOME/.cache/nslab}"
export NSLAB_TOOLS
export PATH="$HOME/.cargo/bin:$NSLAB_TOOLS/binaryen/node_modules/.bin:$PATH"
# Trunk must never try to download wasm-bindgen or wasm-opt: this machine has no internet.
export TRUNK_OFFLINE=true
