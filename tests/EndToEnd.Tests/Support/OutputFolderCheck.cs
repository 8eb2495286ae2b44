using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Distributed.EndToEnd.Tests.Support;

/// <summary>Reads back an output folder the way its users would: model.json as JSON, filters as .npy, metrics as CSV.</summary>
public static partial class OutputFolderCheck
{
    public sealed record MetricsRow(int Layer, int Epoch, double Objective, double NonzeroFraction, double PsnrDb, int Images);

    /// <summary>Asserts the folder is complete and consistent with <paramref name="shapes"/> (one [K, C, s, s] per layer).</summary>
    public static IReadOnlyList<MetricsRow> AssertValid(string folder, IReadOnlyList<int[]> shapes, int[] epochs, int images)
    {
        Assert.True(Directory.Exists(folder), $"output folder {folder} was not written");

        using (JsonDocument model = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "model.json"))))
        {
            JsonElement layers = model.RootElement.GetProperty("spec").GetProperty("layers");
            Assert.Equal(shapes.Count, layers.GetArrayLength());
            for (int l = 0; l < shapes.Count; l++) Assert.Equal(shapes[l][0], layers[l].GetProperty("maps").GetInt32());
        }

        for (int l = 0; l < shapes.Count; l++)
        {
            (int[] shape, float[] data) = ReadNpy(Path.Combine(folder, $"filters-L{l + 1}.npy"));
            Assert.Equal(shapes[l], shape);
            Assert.True(data.All(float.IsFinite), $"filters-L{l + 1}.npy holds non-finite values");
            Assert.True(data.Any(v => v != 0), $"filters-L{l + 1}.npy is all zeros");
            Assert.True(File.Exists(Path.Combine(folder, $"filters-L{l + 1}.png")), $"filters-L{l + 1}.png is missing");
        }

        string[] lines = File.ReadAllLines(Path.Combine(folder, "metrics.csv"));
        Assert.Equal("layer,epoch,objective,data_term,sparsity_term,nonzero_fraction,psnr_db,seconds,images,relative_change,resident_bytes,resident_bytes_per_image", lines[0]);
        MetricsRow[] rows = [.. lines.Skip(1).Where(l => l.Length > 0).Select(ParseRow)];
        Assert.Equal(epochs.Sum(), rows.Length);
        int row = 0;
        for (int l = 0; l < epochs.Length; l++)
            for (int e = 0; e < epochs[l]; e++, row++)
            {
                Assert.Equal((l + 1, e + 1), (rows[row].Layer, rows[row].Epoch));
                Assert.True(double.IsFinite(rows[row].Objective) && rows[row].Objective > 0, $"metrics row {row + 1}: objective {rows[row].Objective}");
                Assert.Equal(images, rows[row].Images);
            }
        Assert.True(File.Exists(Path.Combine(folder, "objective.png")), "objective.png is missing");
        return rows;
    }

    /// <summary>A little-endian float32 .npy (format 1.0 or 2.0): its shape and values.</summary>
    public static (int[] Shape, float[] Data) ReadNpy(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 10 && bytes[0] == 0x93 && Encoding.ASCII.GetString(bytes, 1, 5) == "NUMPY", $"{path} is not a .npy file");
        int major = bytes[6];
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = major == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(bytes, start, headerLength);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'fortran_order': False", header);
        Match shape = ShapePattern().Match(header);
        Assert.True(shape.Success, $"{path}: no shape in header {header}");
        int[] dims = [.. shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(d => int.Parse(d, CultureInfo.InvariantCulture))];
        int offset = start + headerLength;
        long count = dims.Aggregate(1L, (a, d) => a * d);
        Assert.Equal(count * sizeof(float), bytes.Length - offset);
        var data = new float[count];
        Buffer.BlockCopy(bytes, offset, data, 0, (int)(count * sizeof(float)));
        return (dims, data);
    }

    private static MetricsRow ParseRow(string line)
    {
        string[] f = line.Split(',');
        Assert.True(f.Length == 12, $"metrics row '{line}' has {f.Length} fields, expected 12");
        double D(int i) => double.Parse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture);
        return new MetricsRow(int.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1], CultureInfo.InvariantCulture), D(2), D(5), D(6), int.Parse(f[8], CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
