using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Gemm;

/// <summary>
/// Lets ILGPU.Algorithms 1.5.3 load a cuBLAS newer than it knows. It binds cuBLAS by the names libcublas.so.12, .11 and .10
/// (newest first), but CUDA 13 installs only libcublas.so.13, as do PyTorch's CUDA 13 wheels. The functions it calls
/// (cublasCreate_v2, cublasSetStream_v2, cublasSetPointerMode_v2, cublasSgemm_v2 and the like) keep their signatures in 13,
/// so when libcublas.so.12 is not found, its import is resolved to libcublas.so.13 instead.
/// The library is found the usual way (the loader's paths and LD_LIBRARY_PATH).
/// </summary>
internal static class CuBlasLibraryResolver
{
    /// <summary>The newest name ILGPU.Algorithms 1.5.3 asks for on Linux.</summary>
    public const string NewestKnownName = "libcublas.so.12";

    private static int installed;
    private static string? loaded;

    /// <summary>The cuBLAS library the resolver loaded (libcublas.so.12, .13, .11 or .10), or null before it did.</summary>
    public static string? Loaded => Volatile.Read(ref loaded);

    /// <summary>The names to try, in order, for a native library ILGPU.Algorithms imports.</summary>
    public static IReadOnlyList<string> Candidates(string libraryName)
        => libraryName == NewestKnownName ? [NewestKnownName, "libcublas.so.13"] : [libraryName];

    /// <summary>Installs the resolver on ILGPU.Algorithms once per process; later calls do nothing.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 1)
        {
            return;
        }

        try
        {
            NativeLibrary.SetDllImportResolver(typeof(CuBlas).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone else set a resolver on ILGPU.Algorithms already; theirs decides.
        }
    }

    // Every cuBLAS name goes through here, so the one loaded is known; other libraries get the runtime's default probing.
    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!libraryName.StartsWith("libcublas.so.", StringComparison.Ordinal))
        {
            return IntPtr.Zero;
        }

        foreach (string name in Candidates(libraryName))
        {
            if (NativeLibrary.TryLoad(name, assembly, searchPath, out IntPtr handle))
            {
                Volatile.Write(ref loaded, name);
                return handle;
            }
        }

        return IntPtr.Zero;
    }
}
