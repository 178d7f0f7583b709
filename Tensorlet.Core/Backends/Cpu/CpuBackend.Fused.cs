namespace Tensorlet.Backends.Cpu;

internal sealed partial class CpuBackend
{
    public void LstmCellForward(Tensor preactivations, Tensor cPrev, Tensor gates, Tensor c, Tensor h) => throw new NotImplementedException();

    public void LstmCellBackward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPreactivations, Tensor dcPrev)
        => throw new NotImplementedException();

    public void SoftmaxCrossEntropy(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, float gradScale) => throw new NotImplementedException();

    public void SoftmaxWithTemperature(Tensor logits, Tensor probabilities, float temperature) => throw new NotImplementedException();
}
