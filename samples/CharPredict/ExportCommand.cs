using System.CommandLine;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Onnx;

namespace Tensorlet.Samples.CharPredict;

/// <summary><c>export</c>: writes a checkpoint of any of the models as an ONNX file for ONNX Runtime.</summary>
internal sealed class ExportCommand
{
    private readonly AppConsole console;
    private readonly Option<string> checkpoint = CommonOptions.Checkpoint();
    private readonly Option<string> onnx = new("--onnx") { HelpName = "OUT", Description = "The ONNX file to write", Required = true };

    public ExportCommand(AppConsole console)
    {
        this.console = console;
        Command = new Command("export", "Export a trained model to ONNX (opset 14), with its vocabulary in the metadata") { checkpoint, onnx };
        Command.SetAction(Execute);
    }

    /// <summary>The command.</summary>
    public Command Command { get; }

    private int Execute(ParseResult result)
    {
        var path = result.GetValue(onnx)!;
        CommonOptions.EnsureNotTheInput(path, result.GetValue(checkpoint)!, "--onnx");
        var model = ModelCheckpoint.Read(result.GetValue(checkpoint)!);
        byte[] bytes;
        try
        {
            bytes = CharModelExporter.Export(model);
        }
        catch (OnnxExportException e)
        {
            console.Error.WriteLine($"error: {e.Message}");
            return CharPredictApp.Failure;
        }

        CharModelExporter.Write(path, bytes);
        console.Output.WriteLine($"Wrote {path} ({bytes.Length:N0} bytes): {RunFolder.TitleOf(model.Spec.Kind)} model, ONNX opset {CharModelExporter.Opset}.");
        return CharPredictApp.Success;
    }
}
