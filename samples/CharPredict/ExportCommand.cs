using System.CommandLine;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Onnx;

namespace Tensorlet.Samples.CharPredict;

/// <summary><c>export</c>: writes a checkpoint of either model as an ONNX file for ONNX Runtime.</summary>
internal sealed class ExportCommand
{
    private readonly AppConsole console;
    private readonly Option<string> checkpoint = new("--checkpoint") { HelpName = "FILE", Description = "A model file (lstm.safetensors or ngram.safetensors)", Required = true };
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
        var model = ModelCheckpoint.Read(result.GetValue(checkpoint)!);
        var path = result.GetValue(onnx)!;
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
        console.Output.WriteLine($"Wrote {path} ({bytes.Length:N0} bytes): {model.Spec.Kind} model, ONNX opset {CharModelExporter.Opset}.");
        return CharPredictApp.Success;
    }
}
