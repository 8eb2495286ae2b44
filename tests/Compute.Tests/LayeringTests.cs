using System.Reflection;
using System.Text.RegularExpressions;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests;

/// <summary>
/// Compute's namespaces form layers: no namespace may reach, directly or through others, back into itself. The graph
/// is the union of two probes: the source's using directives and fully qualified names (which also see method bodies),
/// and the compiled types' signatures (base types, interfaces, fields, properties, parameters, returns).
/// </summary>
public partial class LayeringTests
{
    private const string Root = "Distributed.Compute";

    [Fact]
    public void ComputeNamespaces_ImportEachOther_WithoutCycles()
    {
        Dictionary<string, HashSet<string>> graph = SourceGraph();
        foreach (var (from, to) in SignatureEdges()) Edges(graph, from).Add(to);
        Assert.True(graph.Count >= 8, $"the probe saw only {graph.Count} namespaces; a broken probe would pass vacuously");
        Assert.True(graph.Values.Sum(e => e.Count) >= 10, "the probe saw almost no imports; a broken probe would pass vacuously");

        IReadOnlyList<string>? cycle = FindCycle(graph);

        Assert.True(cycle is null, $"Compute's namespaces import each other in a circle: {string.Join(" → ", cycle ?? [])}; move the shared type below both.");
    }

    [Fact]
    public void RootNamespace_ImportsNoChildNamespace()
    {
        // Every child sees the root's types without a using, so a root type that used a child would close a circle the
        // graph cannot see.
        Dictionary<string, HashSet<string>> graph = SourceGraph();
        foreach (var (from, to) in SignatureEdges()) Edges(graph, from).Add(to);
        Assert.Empty(Edges(graph, Root));
    }

    [Fact]
    public void FindCycle_PlantedCycle_ReturnsIt()
    {
        var graph = new Dictionary<string, HashSet<string>>
        {
            ["Training"] = ["Inference", "Tensors"],
            ["Inference"] = ["Operators", "Tensors"],
            ["Operators"] = ["Training"],
            ["Tensors"] = [],
        };

        IReadOnlyList<string>? cycle = FindCycle(graph);

        Assert.NotNull(cycle);
        Assert.Equal(cycle[0], cycle[^1]);
        Assert.Equal(["Inference", "Operators", "Training"], cycle.Skip(1).Order().ToArray());
        graph["Operators"].Clear();
        Assert.Null(FindCycle(graph));
    }

    /// <summary>Namespace → namespaces it names, from every .cs file under Compute/.</summary>
    private static Dictionary<string, HashSet<string>> SourceGraph()
    {
        string compute = Path.Combine(RepositoryRoot(), "Compute");
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (string file in Directory.EnumerateFiles(compute, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            string text = File.ReadAllText(file);
            Match declared = NamespaceDeclaration().Match(text);
            Assert.True(declared.Success, $"{file} declares no file-scoped namespace");
            string ns = declared.Groups[1].Value;
            HashSet<string> edges = Edges(graph, ns);
            foreach (Match m in QualifiedName().Matches(text))
            {
                string target = m.Groups[1].Value;
                // A qualified name's last segments may be a type (Distributed.Compute.Training.SpecException): keep the
                // longest prefix that is a namespace some file declares; resolved after the scan.
                if (target != ns) edges.Add(target);
            }
        }
        var known = graph.Keys.ToHashSet();
        foreach (var (ns, edges) in graph)
        {
            var resolved = edges.Select(t => Resolve(t, known)).Where(t => t is not null && t != ns).ToHashSet();
            edges.Clear();
            edges.UnionWith(resolved!);
        }
        return graph;
    }

    private static string? Resolve(string name, HashSet<string> known)
    {
        for (string n = name; n.Length > 0; n = n.Contains('.') ? n[..n.LastIndexOf('.')] : "")
            if (known.Contains(n)) return n;
        return null;
    }

    private static IEnumerable<(string From, string To)> SignatureEdges()
    {
        Assembly compute = typeof(Tensor3).Assembly;
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (Type type in compute.GetTypes())
        {
            if (type.Namespace is not { } from || !from.StartsWith(Root, StringComparison.Ordinal)) continue;
            var used = new List<Type>();
            if (type.BaseType is { } b) used.Add(b);
            used.AddRange(type.GetInterfaces());
            used.AddRange(type.GetFields(all).Select(f => f.FieldType));
            used.AddRange(type.GetProperties(all).Select(p => p.PropertyType));
            foreach (MethodBase m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (m is MethodInfo mi) used.Add(mi.ReturnType);
                used.AddRange(m.GetParameters().Select(p => p.ParameterType));
            }
            foreach (Type u in used.SelectMany(Unwrap))
                if (u.Assembly == compute && u.Namespace is { } to && to != from && to.StartsWith(Root, StringComparison.Ordinal))
                    yield return (from, to);
        }
    }

    private static IEnumerable<Type> Unwrap(Type t)
    {
        if (t.HasElementType) return Unwrap(t.GetElementType()!);
        if (t.IsGenericType) return t.GetGenericArguments().SelectMany(Unwrap).Prepend(t.GetGenericTypeDefinition());
        return [t];
    }

    /// <summary>A cycle as a path that starts and ends on the same namespace, or null.</summary>
    internal static IReadOnlyList<string>? FindCycle(IReadOnlyDictionary<string, HashSet<string>> graph)
    {
        var state = new Dictionary<string, int>();   // 1: on the current path, 2: finished
        var path = new List<string>();
        foreach (string start in graph.Keys.Order(StringComparer.Ordinal))
            if (Visit(start) is { } cycle) return cycle;
        return null;

        List<string>? Visit(string node)
        {
            if (state.GetValueOrDefault(node) == 2) return null;
            if (state.GetValueOrDefault(node) == 1) return [.. path[path.IndexOf(node)..], node];
            state[node] = 1;
            path.Add(node);
            foreach (string next in graph.GetValueOrDefault(node, []).Order(StringComparer.Ordinal))
                if (Visit(next) is { } cycle) return cycle;
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
    }

    private static HashSet<string> Edges(Dictionary<string, HashSet<string>> graph, string ns)
    {
        if (!graph.TryGetValue(ns, out HashSet<string>? edges)) graph[ns] = edges = [];
        return edges;
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Distributed.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"no Distributed.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^namespace\s+(Distributed\.Compute(?:\.\w+)*)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"(?<![\w.])(Distributed\.Compute(?:\.\w+)+)")]
    private static partial Regex QualifiedName();
}
