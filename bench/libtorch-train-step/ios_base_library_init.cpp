// libLibTorchSharp.so (TorchSharp 0.107) was linked against GCC 13's libstdc++ and needs this one
// GLIBCXX_3.4.32 symbol; Debian 12's libstdc++ (GCC 12) lacks it. It only makes sure iostreams are initialised.
#include <ios>
namespace std { void ios_base_library_init() { static ios_base::Init init; } }
