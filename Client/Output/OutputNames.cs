using System.Text;
using System.Text.RegularExpressions;

namespace Distributed.Client.Output;

/// <summary>
/// The file stem each input image's outputs carry (reconstruction-STEM.png, maps-STEM-L1.npy): the file name without
/// its extension, every character but letters, digits, '-' and '_' made '_'. Stems are unique within a run: when two
/// images map to one stem (<c>a b.png</c>, <c>a_b.png</c>, <c>a_b.jpg</c>) the later ones get <c>-2</c>, <c>-3</c>, …
/// in input order, and <see cref="StagedOutput.IndexFile"/> records which image got which.
/// </summary>
internal sealed partial class OutputNames
{
    private readonly List<Entry> _entries = [];

    public OutputNames(IEnumerable<string> imageNames)
    {
        ArgumentNullException.ThrowIfNull(imageNames);
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);   // case-insensitive file systems collide too
        int index = 0;
        foreach (string name in imageNames)
        {
            string safe = SafeName(name), stem = safe;
            for (int n = 2; !taken.Add(stem); n++) stem = $"{safe}-{n}";
            _entries.Add(new Entry(index++, name, stem));
        }
    }

    /// <summary>Each image in input order with its stem.</summary>
    public IReadOnlyList<Entry> Entries => _entries;

    /// <summary>The stem of the image at global index <paramref name="image"/>.</summary>
    public string StemOf(int image) => _entries[image].Stem;

    public sealed record Entry(int Index, string Name, string Stem);

    public static string SafeName(string name)
    {
        string stem = Path.GetFileNameWithoutExtension(name);
        var safe = new StringBuilder();
        foreach (char c in stem) safe.Append(char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        return safe.Length == 0 ? "image" : safe.ToString();
    }

    /// <summary>
    /// A file name `train`, `fetch`, `infer` or `visualize` writes: what an output folder written before index.json
    /// existed may hold and still be replaced whole.
    /// </summary>
    public static bool IsRunOutput(string fileName) => fileName == StagedOutput.IndexFile || RunOutputPattern().IsMatch(fileName);

    [GeneratedRegex(@"^(model\.json|metrics\.csv|objective\.png|inference\.csv|filters-L[0-9]+(\.npy|\.png|-pixels\.png)|top-L[0-9]+\.(png|csv)|reconstruction-.+\.png|maps-.+-L[0-9]+\.npy|\..+\.tmp)$")]
    private static partial Regex RunOutputPattern();
}
