using System.CommandLine;
using Distributed.Compute.Arithmetic;

namespace Distributed.Client.Commands;

/// <summary>
/// `summary`: the convolution-arithmetic table of a described network (sizes, weights per neuron, neurons,
/// connections, parameters). The arithmetic lives in Compute/Arithmetic; this file only reads flags and prints.
/// </summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var input = new Option<string?>("--input")
        {
            Description = "Input volume W x H x depth, e.g. 84x84x4 (WxH means one plane).",
        };
        var layers = new Option<string[]>("--layers", "--layer")
        {
            Description = $"Layers in order, comma-separated or repeated: {LayerParser.Grammar}. "
                + "Example: conv:16:8x8/4,conv:32:4x4/2,fc:256,fc:18",
        };
        var preset = new Option<string?>("--preset")
        {
            Description = $"A network from the literature instead of --input/--layers: {string.Join(", ", NetworkPresets.All.Select(p => p.Name))}. "
                + "Without any flag, dqn.",
        };
        var json = new Option<bool>("--json") { Description = "Print the table as JSON." };

        var command = new Command("summary",
            "Print a network's convolution arithmetic: per layer the output W×H×D, weights per neuron (bias included), "
            + "neurons, connections (links to real inputs, plus biases) and independent parameters, and the totals.");
        command.Options.Add(input);
        command.Options.Add(layers);
        command.Options.Add(preset);
        command.Options.Add(json);
        command.SetAction(r => Run(r, r.GetValue(input), r.GetValue(layers) ?? [], r.GetValue(preset), r.GetValue(json)));
        return command;
    }

    private static int Run(ParseResult result, string? input, string[] layers, string? preset, bool json)
    {
        TextWriter output = result.InvocationConfiguration.Output;
        TextWriter error = result.InvocationConfiguration.Error;
        try
        {
            string title;
            NetworkSummary summary;
            if (preset is not null || (input is null && layers.Length == 0))
            {
                if (input is not null || layers.Length > 0)
                    throw new NetworkSpecException("--preset gives the input and the layers; do not combine it with --input or --layers.");
                NetworkPreset network = NetworkPresets.Find(preset ?? NetworkPresets.Dqn.Name);
                title = network.Description;
                summary = network.Describe();
            }
            else
            {
                if (input is null) throw new NetworkSpecException("--layers needs --input WxHxD (e.g. --input 84x84x4).");
                summary = NetworkSummary.Describe(input, layers);
                title = $"{summary.Input} → {summary.Output}, {summary.Layers.Count} layers";
            }
            output.Write(json ? SummaryJson.Format(summary) + "\n" : SummaryText.Format(summary, title));
            return 0;
        }
        catch (NetworkSpecException e)
        {
            error.WriteLine($"summary: {e.Message}");
            return 2;
        }
    }
}
