using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Checkpoints;

public sealed class SafeTensorsTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder()
    {
        folder = Path.Combine(Path.GetTempPath(), "tensorlet-safetensors-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void RoundTripKeepsNamesShapesDtypesAndEveryBit()
    {
        float[] awkward = [0f, -0f, 1.5f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, float.MaxValue, -3.25e-20f, 1f / 3f, 7f, -8f];
        var path = Path.Combine(folder, "model.safetensors");
        SafeTensorsFile.Write(path,
        [
            new SafeTensor("w", [3, 4], awkward),
            new SafeTensor("scalar", [], [42.5f]),
            new SafeTensor("empty", [0, 5], []),
            SafeTensor.FromInt64("ids", [2, 2], [-1, 0, (1L << 53) + 1, long.MaxValue]),
            SafeTensor.FromInt32("small", [3], [int.MinValue, 0, int.MaxValue]),
        ]);

        var file = SafeTensorsFile.Read(path);

        Assert.That(file.Tensors.Keys, Is.EquivalentTo(new[] { "w", "scalar", "empty", "ids", "small" }));
        Assert.That(file["w"].DType, Is.EqualTo(SafeTensorDType.F32));
        Assert.That(file["w"].Shape, Is.EqualTo(new[] { 3, 4 }));
        Assert.That(file["w"].Data.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(awkward.Select(BitConverter.SingleToInt32Bits)), "every float bit, NaN and -0 included");
        Assert.That(file["scalar"].Shape, Is.Empty);
        Assert.That(file["scalar"].Data, Is.EqualTo(new[] { 42.5f }));
        Assert.That(file["empty"].Shape, Is.EqualTo(new[] { 0, 5 }));
        Assert.That(file["empty"].Data, Is.Empty);
        Assert.That(file["ids"].DType, Is.EqualTo(SafeTensorDType.I64));
        Assert.That(file["ids"].ToInt64Array(), Is.EqualTo(new[] { -1, 0, (1L << 53) + 1, long.MaxValue }), "I64 keeps values float32 cannot");
        Assert.That(file["small"].DType, Is.EqualTo(SafeTensorDType.I32));
        Assert.That(file["small"].ToInt32Array(), Is.EqualTo(new[] { int.MinValue, 0, int.MaxValue }));
        Assert.That(file.Metadata, Is.Empty);
    }

    [Test]
    public void MetadataRoundTripsAndAFileWithoutItReadsAsEmpty()
    {
        var path = Path.Combine(folder, "meta.safetensors");
        var metadata = new Dictionary<string, string> { ["model"] = "lstm", ["hidden"] = "512", ["empty"] = "", ["text"] = "naïve \"quoted\" <tag> & ünïcode" };
        SafeTensorsFile.Write(path, [new SafeTensor("x", [1], [1f])], metadata);

        Assert.That(SafeTensorsFile.Read(path).Metadata, Is.EquivalentTo(metadata));

        SafeTensorsFile.Write(path, [new SafeTensor("x", [1], [1f])]);
        Assert.That(Encoding.UTF8.GetString(File.ReadAllBytes(path)), Does.Not.Contain(SafeTensorsFile.MetadataKey), "no metadata, no key");
        Assert.That(SafeTensorsFile.Read(path).Metadata, Is.Empty);
    }

    [Test]
    public void WrittenBytesFollowTheSpecLayout()
    {
        // Checked with a JSON parser and byte reads, independently of our reader.
        var path = Path.Combine(folder, "layout.safetensors");
        SafeTensorsFile.Write(path, [new SafeTensor("b", [2], [1f, -2f]), SafeTensor.FromInt64("a", [1], [258])], new Dictionary<string, string> { ["k"] = "v" });
        var bytes = File.ReadAllBytes(path);

        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That(headerLength % 8, Is.Zero, "tensor data starts 8-byte aligned");
        var headerText = Encoding.UTF8.GetString(bytes, 8, headerLength);
        Assert.That(headerText.TrimEnd(' '), Does.EndWith("}"), "padding is spaces after the JSON");
        using var header = JsonDocument.Parse(headerText);
        var names = header.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(names, Is.EqualTo(new[] { "__metadata__", "a", "b" }), "metadata first, then tensors sorted by name");
        Assert.That(header.RootElement.GetProperty("a").GetRawText(), Is.EqualTo("{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}"));
        Assert.That(header.RootElement.GetProperty("b").GetRawText(), Is.EqualTo("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}"));
        var data = bytes.AsSpan(8 + headerLength);
        Assert.That(data.Length, Is.EqualTo(16));
        Assert.That(BinaryPrimitives.ReadInt64LittleEndian(data), Is.EqualTo(258));
        Assert.That(BinaryPrimitives.ReadSingleLittleEndian(data[8..]), Is.EqualTo(1f));
        Assert.That(BinaryPrimitives.ReadSingleLittleEndian(data[12..]), Is.EqualTo(-2f));
    }

    [TestCase("lstm.safetensors")]
    [TestCase("ngram_relu.safetensors")]
    [TestCase("lstm_interop.safetensors")]
    [TestCase("lstm_interop_io.safetensors")]
    public void RewritingAFileWrittenByThePyTorchScriptGivesTheSameBytes(string fixture)
    {
        // The script writes with Python's json and struct, sorting names and metadata keys like we do,
        // so reading its file and writing it again must reproduce it byte for byte.
        var source = TestData.Fixture("torch/" + fixture);
        var file = SafeTensorsFile.Read(source);
        var copy = Path.Combine(folder, fixture);

        SafeTensorsFile.Write(copy, file.Tensors.Values, file.Metadata);

        Assert.That(File.ReadAllBytes(copy), Is.EqualTo(File.ReadAllBytes(source)));
    }

    [Test]
    public void ReadsEveryDtypeTorchWrote()
    {
        var file = SafeTensorsFile.Read(TestData.Fixture("torch/dtypes.safetensors"));
        float[] floats = [-2.5f, -1f, 0f, 0.5f, 1f, 3.25f];
        foreach (var (name, dtype) in new[] { ("f32", SafeTensorDType.F32), ("f64", SafeTensorDType.F64), ("f16", SafeTensorDType.F16), ("bf16", SafeTensorDType.BF16) })
        {
            Assert.That(file[name].DType, Is.EqualTo(dtype), name);
            Assert.That(file[name].Shape, Is.EqualTo(new[] { 2, 3 }), name);
            Assert.That(file[name].Data, Is.EqualTo(floats), name);
            Assert.Throws<InvalidOperationException>(() => file[name].ToInt32Array(), name);
        }

        long[] ints = [-3, -1, 0, 1, 2, 100];
        foreach (var (name, dtype) in new[] { ("i64", SafeTensorDType.I64), ("i32", SafeTensorDType.I32), ("i16", SafeTensorDType.I16), ("i8", SafeTensorDType.I8) })
        {
            Assert.That(file[name].DType, Is.EqualTo(dtype), name);
            Assert.That(file[name].ToInt64Array(), Is.EqualTo(ints), name);
            Assert.That(file[name].Data, Is.EqualTo(ints.Select(v => (float)v)), name);
        }

        Assert.That(file["u8"].DType, Is.EqualTo(SafeTensorDType.U8));
        Assert.That(file["u8"].ToInt32Array(), Is.EqualTo(new[] { 0, 1, 2, 200, 255 }));
        Assert.That(file["bool"].DType, Is.EqualTo(SafeTensorDType.Bool));
        Assert.That(file["bool"].ToInt32Array(), Is.EqualTo(new[] { 1, 0, 1 }));
        Assert.That(file["scalar"].Shape, Is.Empty);
        Assert.That(file["scalar"].Data, Is.EqualTo(new[] { 7.5f }));
        Assert.That(file["empty"].Shape, Is.EqualTo(new[] { 0, 4 }));
        Assert.That(file["empty"].Data, Is.Empty);
    }

    // ---- corrupt files: every one must name the file and the problem ----

    [Test]
    public void MissingFileSaysSo()
    {
        var path = Path.Combine(folder, "nope.safetensors");
        var ex = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Read(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("does not exist"));
    }

    [Test]
    public void AFolderSaysItIsAFolder()
    {
        var path = Directory.CreateDirectory(Path.Combine(folder, "run")).FullName;
        var ex = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Read(path));
        Assert.That(ex!.Message, Is.EqualTo($"{path} is a folder, not a safetensors file."));
    }

    [TestCase(0)]
    [TestCase(7)]
    public void FileShorterThanTheHeaderLengthIsTooShort(int length)
    {
        var path = WriteBytes(new byte[length]);
        AssertFails(path, "is too short to be a safetensors file", $"{length} bytes");
    }

    [Test]
    public void HeaderLengthBeyondTheFileIsReported()
    {
        var path = WriteRaw("{}", [], headerLength: 1234);
        AssertFails(path, "is truncated or not a safetensors file", "1234 bytes", "only 2 bytes");
    }

    [Test]
    public void AHeaderLengthOneByteBeyondTheFileIsReported()
    {
        var path = WriteRaw("{}", [], headerLength: 3);
        AssertFails(path, "is truncated or not a safetensors file", "3 bytes", "only 2 bytes");
    }

    [Test]
    public void AHugeHeaderLengthIsReportedWithoutAllocating()
    {
        var path = WriteRaw("{}", [], headerLength: ulong.MaxValue);
        AssertFails(path, "is truncated or not a safetensors file", ulong.MaxValue.ToString());
    }

    [TestCase("{\"a\": ", TestName = "MalformedJson_Unterminated")]
    [TestCase("not json", TestName = "MalformedJson_Garbage")]
    [TestCase("", TestName = "MalformedJson_Empty")]
    [TestCase("{\"a\":{}} {}", TestName = "MalformedJson_TwoValues")]
    public void MalformedJsonIsReported(string header)
    {
        var path = WriteRaw(header, []);
        AssertFails(path, "has a malformed JSON header");
    }

    [Test]
    public void InvalidUtf8InTheHeaderIsReported()
    {
        var header = Encoding.UTF8.GetBytes("{\"x\":{}}");
        header[3] = 0xFF;
        var path = WriteRaw(header, []);
        AssertFails(path, "has a malformed JSON header: it is not valid UTF-8");

        // Inside a string that the reader never decodes as text (a metadata value), the same check holds.
        var inValue = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"k\":\"v?\"}}");
        inValue[Array.IndexOf(inValue, (byte)'?')] = 0xC3;
        AssertFails(WriteRaw(inValue, []), "has a malformed JSON header: it is not valid UTF-8");
    }

    [TestCase("[1, 2]", "expected a JSON object, found an array")]
    [TestCase("{\"__metadata__\": [\"a\"]}", "has malformed metadata: expected an object of strings")]
    [TestCase("{\"__metadata__\": {\"epochs\": 3}}", "has malformed metadata: 'epochs' is a number")]
    [TestCase("{\"w\": 5}", "tensor 'w' has a malformed header entry")]
    [TestCase("{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", "tensor 'w' has no \"dtype\" string")]
    [TestCase("{\"w\": {\"dtype\": 5, \"shape\": [1], \"data_offsets\": [0, 4]}}", "tensor 'w' has no \"dtype\" string")]
    [TestCase("{\"__metadata__\": {\"a\": \"1\", \"a\": \"2\"}}", "has malformed metadata: 'a' appears twice")]
    [TestCase("{\"w\": {\"dtype\": \"F64\", \"shape\": [1073741824, 1073741824], \"data_offsets\": [0, 0]}}", "which takes 9223372036854775807 bytes, but its data_offsets [0, 0] span 0 bytes")]
    [TestCase("{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", "tensor 'w' has a malformed shape (missing)")]
    [TestCase("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", "tensor 'w' has a malformed shape [-1]")]
    [TestCase("{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", "tensor 'w' has a malformed shape [1.5]")]
    [TestCase("{\"w\": {\"dtype\": \"F32\", \"shape\": \"1\", \"data_offsets\": [0, 4]}}", "tensor 'w' has a malformed shape \"1\"")]
    [TestCase("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4]}}", "tensor 'w' has malformed data_offsets [4]")]
    [TestCase("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", "tensor 'w' has malformed data_offsets [4, 0]")]
    [TestCase("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", "tensor 'w' has malformed data_offsets [-4, 0]")]
    [TestCase("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", "'w' appears twice")]
    public void MalformedHeaderStructureIsReported(string header, string problem)
    {
        var path = WriteRaw(header, new byte[8]);
        AssertFails(path, problem);
    }

    [TestCase("F8_E4M3")]
    [TestCase("U64")]
    [TestCase("f32")]
    public void UnsupportedDtypeIsNamed(string dtype)
    {
        var path = WriteRaw($"{{\"w\": {{\"dtype\": \"{dtype}\", \"shape\": [4], \"data_offsets\": [0, 4]}}}}", new byte[4]);
        AssertFails(path, $"tensor 'w' has dtype '{dtype}', which Tensorlet cannot read", "supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL");
    }

    [TestCase("F32", "[2, 3]", 20, "has shape [2, 3] of F32, which takes 24 bytes, but its data_offsets [0, 20] span 20 bytes")]
    [TestCase("I64", "[3]", 12, "has shape [3] of I64, which takes 24 bytes, but its data_offsets [0, 12] span 12 bytes")]
    [TestCase("F16", "[]", 4, "has shape [] of F16, which takes 2 bytes, but its data_offsets [0, 4] span 4 bytes")]
    public void ShapeTimesDtypeSizeMustEqualTheSpan(string dtype, string shape, int bytes, string problem)
    {
        var path = WriteRaw($"{{\"w\": {{\"dtype\": \"{dtype}\", \"shape\": {shape}, \"data_offsets\": [0, {bytes}]}}}}", new byte[bytes]);
        AssertFails(path, "tensor 'w' " + problem);
    }

    [Test]
    public void TruncatedTensorDataIsReportedWithBothSizes()
    {
        var path = Path.Combine(folder, "lstm.safetensors");
        SafeTensorsFile.Write(path, [new SafeTensor("a", [100], new float[100]), new SafeTensor("b", [150], new float[150])]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^200]);

        AssertFails(path, "is truncated: header says 1000 bytes of tensor data, file has 800", "tensor 'b' ends at byte 1000");
    }

    [Test]
    public void OverlappingTensorsAreReported()
    {
        var path = WriteRaw(Header(("a", 0, 8), ("b", 4, 12)), new byte[12]);
        AssertFails(path, "has overlapping tensors: 'b' (bytes 4..12) overlaps 'a' (bytes 0..8)");
    }

    [Test]
    public void AGapBetweenTensorsIsReported()
    {
        var path = WriteRaw(Header(("a", 0, 4), ("b", 8, 12)), new byte[12]);
        AssertFails(path, "has a gap in its tensor data: bytes 4..8, before tensor 'b', belong to no tensor");
    }

    [Test]
    public void DataThatStartsAfterZeroIsAGap()
    {
        var path = WriteRaw(Header(("a", 4, 8)), new byte[8]);
        AssertFails(path, "bytes 0..4, before tensor 'a'");
    }

    [Test]
    public void TrailingBytesNoTensorCoversAreReported()
    {
        var path = WriteRaw(Header(("a", 0, 4)), new byte[10]);
        AssertFails(path, "has 6 bytes of tensor data that belong to no tensor: the header covers 4 bytes, the file has 10");
    }

    [Test]
    public void TensorsListedOutOfOffsetOrderAreFine()
    {
        // The spec allows any order in the header; only the spans must tile the data.
        var path = WriteRaw(Header(("z", 0, 4), ("a", 4, 8)), [0, 0, 128, 63, 0, 0, 0, 64]);
        var file = SafeTensorsFile.Read(path);
        Assert.That(file["z"].Data, Is.EqualTo(new[] { 1f }));
        Assert.That(file["a"].Data, Is.EqualTo(new[] { 2f }));
    }

    // ---- lookups ----

    [Test]
    public void LookupsNameTheFileTheTensorAndWhatIsThere()
    {
        var path = Path.Combine(folder, "m.safetensors");
        SafeTensorsFile.Write(path, [new SafeTensor("output.weight", [2, 3], new float[6]), new SafeTensor("output.bias", [2], new float[2])]);
        var file = SafeTensorsFile.Read(path);

        var missing = Assert.Throws<CheckpointException>(() => _ = file["lstm.weight_ih_l0"]);
        Assert.That(missing!.Message, Does.Contain(path).And.Contain("has no tensor 'lstm.weight_ih_l0'").And.Contain("output.bias, output.weight"));
        var wrongShape = Assert.Throws<CheckpointException>(() => file.Get("output.weight", 3, 2));
        Assert.That(wrongShape!.Message, Does.Contain(path).And.Contain("'output.weight' has shape [2, 3], expected [3, 2]"));
        Assert.That(file.Get("output.weight", 2, 3).Data, Has.Length.EqualTo(6));
    }

    [Test]
    public void IntegerAccessorsRefuseWhatTheyCannotRepresent()
    {
        Assert.Throws<InvalidOperationException>(() => new SafeTensor("f", [1], [1f]).ToInt64Array());
        var ex = Assert.Throws<InvalidOperationException>(() => SafeTensor.FromInt64("big", [1], [1L << 40]).ToInt32Array());
        Assert.That(ex!.Message, Does.Contain("'big'").And.Contain("int32"));
    }

    [Test]
    public void ATensorWhoseDataDoesNotMatchItsShapeCannotBeMade()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = new SafeTensor("w", [2, 3], new float[5]));
        Assert.That(ex!.Message, Does.Contain("'w'").And.Contain("[2, 3]").And.Contain("6 elements").And.Contain("5 values"));
        Assert.Throws<ArgumentException>(() => _ = new SafeTensor("w", [-1], []));
        Assert.Throws<ArgumentException>(() => _ = new SafeTensor("", [1], [0f]));
    }

    // ---- atomic writes ----

    [Test]
    public void AnInvalidWriteLeavesThePreviousFileIntactAndNoTempFile()
    {
        var path = Path.Combine(folder, "lstm.safetensors");
        SafeTensorsFile.Write(path, [new SafeTensor("w", [2], [1f, 2f])]);
        var before = File.ReadAllBytes(path);

        var duplicate = Assert.Throws<CheckpointException>(() =>
            SafeTensorsFile.Write(path, [new SafeTensor("w", [1], [3f]), new SafeTensor("w", [1], [4f])]));
        Assert.That(duplicate!.Message, Does.Contain(path).And.Contain("two tensors are named 'w'"));
        var reserved = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Write(path, [new SafeTensor("__metadata__", [1], [3f])]));
        Assert.That(reserved!.Message, Does.Contain("reserved"));
        var f64 = SafeTensorsFile.Read(TestData.Fixture("torch/dtypes.safetensors"))["f64"];
        var unwritable = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Write(path, [f64]));
        Assert.That(unwritable!.Message, Does.Contain("'f64' is F64"));

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void AWriteThatFailsAfterTheTempFileIsWrittenRemovesIt()
    {
        // The target is a folder, so the final rename fails after the whole temp file is on disk.
        var path = Path.Combine(folder, "taken.safetensors");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "inside.txt"), "keep me");

        var ex = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Write(path, [new SafeTensor("w", [1000], new float[1000])]));

        Assert.That(ex!.Message, Does.Contain("Could not write " + path));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.EqualTo(new[] { path }), "no temp file left beside it");
        Assert.That(File.ReadAllText(Path.Combine(path, "inside.txt")), Is.EqualTo("keep me"));
    }

    [Test]
    public void ASecondWriteReplacesTheFileAndCreatesMissingFolders()
    {
        var path = Path.Combine(folder, "runs", "x", "lstm.safetensors");
        SafeTensorsFile.Write(path, [new SafeTensor("w", [2], [1f, 2f])]);
        SafeTensorsFile.Write(path, [new SafeTensor("v", [3], [3f, 4f, 5f])], new Dictionary<string, string> { ["epoch"] = "2" });

        var file = SafeTensorsFile.Read(path);
        Assert.That(file.Tensors.Keys, Is.EqualTo(new[] { "v" }));
        Assert.That(file["v"].Data, Is.EqualTo(new[] { 3f, 4f, 5f }));
        Assert.That(file.Metadata["epoch"], Is.EqualTo("2"));
        Assert.That(Directory.GetFileSystemEntries(Path.GetDirectoryName(path)!), Is.EqualTo(new[] { path }));
    }

    // ---- helpers ----

    private static void AssertFails(string path, params string[] fragments)
    {
        var ex = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Read(path));
        Assert.That(ex!.Message, Does.Contain(path), "the message names the file");
        foreach (var fragment in fragments)
        {
            Assert.That(ex.Message, Does.Contain(fragment));
        }
    }

    private static string Header(params (string Name, int Begin, int End)[] entries) =>
        "{" + string.Join(",", entries.Select(e =>
            $"\"{e.Name}\":{{\"dtype\":\"F32\",\"shape\":[{(e.End - e.Begin) / 4}],\"data_offsets\":[{e.Begin},{e.End}]}}")) + "}";

    private string WriteRaw(string header, byte[] data, ulong? headerLength = null) =>
        WriteRaw(Encoding.UTF8.GetBytes(header), data, headerLength);

    private string WriteRaw(byte[] header, byte[] data, ulong? headerLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return WriteBytes(bytes);
    }

    private string WriteBytes(byte[] bytes)
    {
        var path = Path.Combine(folder, "corrupt.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
