using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;

namespace Distributed.Client.Tests.Output;

/// <summary>Decodes a produced PNG back into 8-bit pixels with the project's own decoder (which checks every chunk's CRC).</summary>
internal sealed class Picture
{
    private readonly Tensor3 _planes;

    public Picture(byte[] png)
    {
        Assert.True(png.Length > 8 && png[0] == 0x89 && png[1] == (byte)'P', "not a PNG");
        _planes = ImageDecoder.Decode("picture.png", png);
        Assert.Equal(3, _planes.Planes);
    }

    public int Width => _planes.Cols;
    public int Height => _planes.Rows;

    public (byte R, byte G, byte B) this[int x, int y] =>
        (Byte(_planes[0, y, x]), Byte(_planes[1, y, x]), Byte(_planes[2, y, x]));

    /// <summary>Pixels in the rectangle that are not <paramref name="background"/>.</summary>
    public int CountOther(int x0, int y0, int width, int height, (byte R, byte G, byte B) background)
    {
        int n = 0;
        for (int y = y0; y < y0 + height; y++)
            for (int x = x0; x < x0 + width; x++)
                if (this[x, y] != background) n++;
        return n;
    }

    private static byte Byte(float v) => (byte)Math.Round(v * 255);
}
