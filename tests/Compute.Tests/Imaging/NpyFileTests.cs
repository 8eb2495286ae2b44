using System.Text;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests.Imaging;

public class NpyFileTests
{
    [Fact]
    public void Header_Shape2x3x4x4_IsExactlyWhatNumpyWrites()
    {
        const string Dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 4), }";
        int padding = 128 - (10 + Dict.Length + 1); // numpy aligns the data to 64 bytes

        byte[] header = NpyFile.Header([2, 3, 4, 4]);

        byte[] expected = [0x93, .. "NUMPY"u8, 1, 0, 118, 0, .. Encoding.ASCII.GetBytes(Dict + new string(' ', padding) + "\n")];
        Assert.Equal(expected, header);
        Assert.Equal(128, header.Length);
    }

    [Fact]
    public void Header_OneDimension_WritesTheTrailingComma()
    {
        string text = Encoding.ASCII.GetString(NpyFile.Header([5]));

        Assert.Contains("'shape': (5,), }", text);
    }

    [Fact]
    public void Header_AnyShape_EndsWithNewlineAtAMultipleOf64()
    {
        int[][] shapes = [[], [1], [7, 7], [45, 9, 7, 7], [123456, 1, 99, 99999], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]];
        foreach (int[] shape in shapes)
        {
            byte[] header = NpyFile.Header(shape);
            Assert.Equal(0, header.Length % 64);
            Assert.Equal((byte)'\n', header[^1]);
            Assert.Equal(header.Length - 10, header[8] | header[9] << 8);
        }
    }

    [Fact]
    public void WriteThenRead_FilterBank_RoundTripsShapeAndBits()
    {
        var random = new Random(7);
        var filters = new FilterBank(2, 3, 4);
        for (int i = 0; i < filters.Data.Length; i++) filters.Data[i] = (float)(random.NextDouble() * 2 - 1);
        filters.Data[5] = float.Epsilon;
        filters.Data[6] = -0f;

        NpyArray read = NpyFile.Read(new MemoryStream(NpyFile.ToBytes(filters)));

        Assert.Equal([2, 3, 4, 4], read.Shape);
        Assert.Equal("<f4", read.Descr);
        Assert.Equal(filters.Data.Select(BitConverter.SingleToInt32Bits), read.Data.Select(BitConverter.SingleToInt32Bits));
        Assert.True(read.ToFilterBank().SameShape(filters));
    }

    [Fact]
    public void ToBytes_Tensor3_HasShapePlanesRowsCols()
    {
        var maps = new Tensor3(9, 5, 6);
        maps[8, 4, 5] = 3.5f;

        NpyArray read = NpyFile.Read(new MemoryStream(NpyFile.ToBytes(maps)));

        Assert.Equal([9, 5, 6], read.Shape);
        Assert.Equal(3.5f, read.ToTensor3()[8, 4, 5]);
        Assert.Equal(128 + 4 * 9 * 5 * 6, NpyFile.ToBytes(maps).Length);
    }

    [Fact]
    public void Read_AnchorFloat32_MatchesTheRawBinaryCopy()
    {
        string folder = TestFiles.SporcoAnchors;

        NpyArray npy = NpyFile.Read(Path.Combine(folder, "b128_highpass_128x128x5.npy"));

        byte[] raw = File.ReadAllBytes(Path.Combine(folder, "b128_highpass_128x128x5.bin"));
        Assert.Equal([128, 128, 5], npy.Shape);
        Assert.Equal("<f4", npy.Descr);
        Assert.Equal(raw.Length / 4, npy.Data.Length);
        for (int i = 0; i < npy.Data.Length; i++) Assert.Equal(BitConverter.ToSingle(raw, 4 * i), npy.Data[i]);
    }

    [Fact]
    public void Read_AnchorFloat64_ConvertsToTheFloat32Values()
    {
        string folder = TestFiles.SporcoAnchors;

        NpyArray npy = NpyFile.Read(Path.Combine(folder, "b_D0_randn_8x8x64.npy"));

        byte[] raw = File.ReadAllBytes(Path.Combine(folder, "b_D0_randn_8x8x64.bin"));
        Assert.Equal([8, 8, 64], npy.Shape);
        Assert.Equal("<f8", npy.Descr);
        for (int i = 0; i < npy.Data.Length; i++) Assert.Equal(BitConverter.ToSingle(raw, 4 * i), npy.Data[i]);
    }

    [Fact]
    public void Read_Truncated_ThrowsInvalidData()
    {
        byte[] bytes = NpyFile.ToBytes([3, 3], new float[9]);

        var ex = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new MemoryStream(bytes[..^1])));

        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Read_NotNpy_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => NpyFile.Read(new MemoryStream("hello, world, not numpy"u8.ToArray())));
    }

    [Fact]
    public void Read_FortranOrder_ThrowsInvalidData()
    {
        byte[] bytes = NpyFile.ToBytes([2, 2], new float[4]);
        byte[] fortran = Encoding.ASCII.GetBytes("True ");
        int at = Encoding.ASCII.GetString(bytes).IndexOf("False", StringComparison.Ordinal);
        fortran.CopyTo(bytes, at);

        var ex = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new MemoryStream(bytes)));

        Assert.Contains("Fortran", ex.Message);
    }

    [Fact]
    public void Write_WrongElementCount_Throws()
    {
        Assert.Throws<ArgumentException>(() => NpyFile.ToBytes([2, 2], new float[5]));
    }
}
