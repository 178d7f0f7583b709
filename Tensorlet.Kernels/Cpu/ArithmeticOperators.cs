namespace Tensorlet.Kernels.Cpu;

/// <summary>y = alpha·x.</summary>
internal readonly struct ScaleOperator(float alpha) : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Multiply(TLanes.Create(alpha), x);
}

/// <summary>d = x + y.</summary>
internal readonly struct AddOperator : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector y)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Add(x, y);
}

/// <summary>d = x·y.</summary>
internal readonly struct MultiplyOperator : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector y)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Multiply(x, y);
}

/// <summary>y = ln x (.NET's vectorized log).</summary>
internal readonly struct LogOperator : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Log(x);
}

/// <summary>d = x + alpha·y (torch.add with alpha).</summary>
internal readonly struct AddScaledOperator(float alpha) : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector y)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Add(x, TLanes.Multiply(TLanes.Create(alpha), y));
}
