using Distributed.Compute.Operators;

namespace Distributed.Compute.Tests.Operators;

/// <summary>
/// Awkward layer shapes shared by the operator tests: rows and columns from 1 to 40, odd and not multiples of any
/// vector width (4, 8, 16), filters from 1 to 11, and full and sparse connectivity.
/// </summary>
internal static class LayerCases
{
    /// <summary>(rows, cols, s): every s ≤ min(rows, cols), as LayerOperator requires.</summary>
    private static readonly (int H, int W, int S)[] Sizes =
    [
        (1, 1, 1), (1, 40, 1), (2, 3, 2), (3, 5, 3), (7, 9, 5), (8, 8, 8), (9, 17, 7), (11, 11, 11),
        (13, 31, 4), (17, 16, 6), (33, 15, 9), (40, 40, 11), (40, 37, 10), (5, 40, 5), (23, 19, 2), (16, 33, 3), (31, 8, 8),
        (19, 25, 1), (12, 7, 7), (26, 29, 11),
    ];

    /// <summary>0: K=1,C=1; 1: K=3,C=1; 2: K=2,C=3 full; 3: singles and all doubles of 3 planes; 4: random doubles 5×4.</summary>
    public static Connectivity Layout(int layout) => layout switch
    {
        0 => Connectivity.Full(1, 1),
        1 => Connectivity.Full(3, 1),
        2 => Connectivity.Full(2, 3),
        3 => Connectivity.SinglesAndAllDoubles(3),
        _ => Connectivity.RandomDoubles(5, 4, seed: 11),
    };

    public const int Layouts = 5;

    public static TheoryData<int, int, int, int> All()
    {
        var data = new TheoryData<int, int, int, int>();
        for (int n = 0; n < Sizes.Length; n++)
        {
            var (h, w, s) = Sizes[n];
            data.Add(h, w, s, n % Layouts);
            data.Add(h, w, s, (n + 2) % Layouts);
        }
        return data;
    }

    /// <summary>
    /// Smaller shapes for the Gram tests, whose naive reference costs s⁴·H·W a map pair: still odd, non-multiples of the
    /// vector widths, s from 1 to 11, and images narrower than the filter is wide plus one.
    /// </summary>
    public static TheoryData<int, int, int, int> Gram()
    {
        (int, int, int)[] sizes =
        [
            (1, 1, 1), (1, 40, 1), (2, 3, 2), (3, 5, 3), (7, 9, 5), (8, 8, 8), (9, 17, 7), (11, 11, 11), (13, 31, 4),
            (17, 16, 6), (12, 7, 7), (40, 37, 3), (23, 19, 2), (5, 40, 5), (10, 9, 9), (6, 10, 6),
        ];
        var data = new TheoryData<int, int, int, int>();
        for (int n = 0; n < sizes.Length; n++)
        {
            var (h, w, s) = sizes[n];
            data.Add(h, w, s, n % Layouts);
        }
        return data;
    }

    /// <summary>The sparse layouts only, for the adjoint identities.</summary>
    public static TheoryData<int, int, int, int> Sparse()
    {
        var data = new TheoryData<int, int, int, int>();
        for (int n = 0; n < Sizes.Length; n += 2)
        {
            var (h, w, s) = Sizes[n];
            data.Add(h, w, s, 3 + (n / 2) % 2);
        }
        return data;
    }
}
