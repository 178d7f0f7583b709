using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NUnit.Framework;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// Compiles every elementwise ILGPU kernel to PTX without a GPU, so a construct the CUDA backend rejects (but ILGPU's
/// CPU accelerator accepts) fails here rather than on the first machine with a GPU.
/// </summary>
public sealed class ElementwisePtxTests
{
    private static readonly Type[] KernelClasses =
        [typeof(ElementwiseKernels), typeof(GatherScatterKernels), typeof(BiasKernels), typeof(ReductionKernels), typeof(DropoutKernel), typeof(AdamKernel)];

    private static IEnumerable<TestCaseData> Kernels() =>
        KernelClasses.SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Select(method => new TestCaseData(method).SetArgDisplayNames($"{type.Name}.{method.Name}")));

    [TestCaseSource(nameof(Kernels))]
    public void CompilesToPtx(MethodInfo kernel)
    {
        using var context = Context.Create(builder => builder.Default().EnableAlgorithms());
        var architecture = CudaArchitecture.SM_70;
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_70, null);
        var entry = EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, default(KernelSpecialization));
        Assert.That(compiled.PTXAssembly, Does.Contain(".entry"));
    }
}
