# Builds bench/libtorch-train-step and sets LIBTORCH (the command that runs it) and PRELOAD (environment it needs,
# possibly empty), for the scripts that run libtorch: `source bench/libtorch-env.sh` from the repository root.
# On a system whose libstdc++ predates GCC 13 (Debian 12), libLibTorchSharp.so's one GLIBCXX_3.4.32 symbol,
# std::ios_base_library_init, is supplied by a two-line preload (libtorch-train-step/ios_base_library_init.cpp) and
# that version requirement is marked weak in the native library's copy in the build output.
source bench/lib.sh
build bench/libtorch-train-step
OUT=bench/libtorch-train-step/bin/Release/net10.0
LIBTORCH="dotnet $OUT/LibtorchTrainStep.dll"

PRELOAD=""
native=$OUT/runtimes/linux-x64/native/libLibTorchSharp.so
if ! strings "$(ldconfig -p | sed -n 's/.*libstdc++.so.6 (libc6,x86-64) => //p' | head -1)" | grep -q GLIBCXX_3.4.32; then
  shim=$OUT/libiosinit.so
  g++ -O2 -shared -fPIC -o "$shim" bench/libtorch-train-step/ios_base_library_init.cpp
  python3 - "$native" <<'PY'
import struct, subprocess, sys
path = sys.argv[1]
out = subprocess.run(["readelf", "-V", path], capture_output=True, text=True).stdout
base = int(out.split("'.gnu.version_r'")[1].split("Offset: ")[1].split()[0], 16)
entry = next(l for l in out.splitlines() if "Name: GLIBCXX_3.4.32" in l)
offset = base + int(entry.split(":")[0].strip(), 16)
data = bytearray(open(path, "rb").read())
struct.pack_into("<H", data, offset + 4, 2)  # vna_flags = VER_FLG_WEAK
open(path, "wb").write(data)
PY
  rm -rf "$OUT/cpu"  # TorchSharp's fallback copy of the unpatched natives
  PRELOAD="LD_PRELOAD=$(realpath "$shim")"
fi
