using Tensorlet.Kernels;

namespace Tensorlet.Backends.Ilgpu;

internal sealed partial class IlgpuBackend
{
    public void Fill(Tensor x, float value) => throw new NotImplementedException();

    public void Copy(Tensor source, Tensor destination) => throw new NotImplementedException();

    public void Scale(Tensor x, float alpha) => throw new NotImplementedException();

    public double SumOfSquares(Tensor x) => throw new NotImplementedException();

    public void GatherColumns(Tensor weight, IndexTensor indices, Tensor output) => throw new NotImplementedException();

    public void ScatterAddColumns(Tensor gradOutput, IndexTensor indices, Tensor gradWeight) => throw new NotImplementedException();

    public void AddBias(Tensor x, Tensor bias) => throw new NotImplementedException();

    public void SumColumns(Tensor x, Tensor result, bool accumulate) => throw new NotImplementedException();

    public void ActivationForward(Activation activation, Tensor x, Tensor y) => throw new NotImplementedException();

    public void ActivationBackward(Activation activation, Tensor y, Tensor dy, Tensor dx) => throw new NotImplementedException();

    public void Dropout(Tensor x, Tensor y, float p, ulong seed, ulong stream) => throw new NotImplementedException();

    public void AdamStep(Tensor parameters, Tensor gradients, Tensor m, Tensor v, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step)
        => throw new NotImplementedException();
}
