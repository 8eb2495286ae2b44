using System.Runtime.InteropServices;

namespace Distributed.Compute.Tests.Fixtures;

/// <summary>
/// Floats in memory with an inaccessible page right after them (or right before): a kernel that reads or writes one
/// element past either end faults at once (the test process dies with SIGSEGV, so the run fails loudly) instead of
/// reading a neighbour's bytes, which a managed array's slack would silently allow. Linux only (mmap/mprotect); elsewhere
/// the constructor throws, so the tests that use it fail by name rather than pass unchecked.
/// </summary>
internal sealed unsafe partial class GuardedBuffer : IDisposable
{
    private const int ProtNone = 0, ProtRead = 1, ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private readonly byte* _base;
    private readonly nuint _total;
    private readonly float* _data;

    public static bool Supported => OperatingSystem.IsLinux();

    /// <param name="guardBefore">False: the guard page follows the last element. True: it precedes the first.</param>
    public GuardedBuffer(int length, bool guardBefore = false)
    {
        if (!Supported) throw new PlatformNotSupportedException("guard pages need mmap/mprotect (Linux).");
        Length = length;
        nuint page = (nuint)Environment.SystemPageSize;
        nuint bytes = (nuint)Math.Max(length, 1) * sizeof(float);
        nuint body = (bytes + page - 1) / page * page;
        _total = body + 2 * page;
        // MAP_ANONYMOUS is 0x20 on Linux.
        _base = (byte*)Mmap(null, _total, ProtRead | ProtWrite, MapPrivate | 0x20, -1, 0);
        if (_base == (byte*)-1) throw new InvalidOperationException($"mmap failed ({Marshal.GetLastPInvokeError()}).");
        if (Mprotect(_base, page, ProtNone) != 0 || Mprotect(_base + page + body, page, ProtNone) != 0)
            throw new InvalidOperationException($"mprotect failed ({Marshal.GetLastPInvokeError()}).");
        _data = (float*)(guardBefore ? _base + page : _base + page + body - (nuint)length * sizeof(float));
    }

    public int Length { get; }

    public Span<float> Span => new(_data, Length);

    /// <summary>A guarded copy of <paramref name="values"/>.</summary>
    public static GuardedBuffer Of(ReadOnlySpan<float> values, bool guardBefore = false)
    {
        var buffer = new GuardedBuffer(values.Length, guardBefore);
        values.CopyTo(buffer.Span);
        return buffer;
    }

    public void Dispose() => _ = Munmap(_base, _total);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(void* address, nuint length);
}
