using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Tiles;
using Distributed.Grains.Messaging.Payloads;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Grains.Tiles;

/// <summary>
/// The tiles of a large image's solve on tile grains spread over the silos, driven by the shard that owns the image
/// (<see cref="ITileHost"/>). The owner cuts each tile's frame and opens a fresh tile grain with it, runs Compute's
/// <see cref="TiledCoordinateDescent.Solve"/> with one step message per tile and round (the border moves routed by
/// the driver, in tile order, ride on the requests and replies the phase barrier needs anyway), collects the owned
/// nonzeros and gathers them into the image's compact maps in plan order. The tiles compute exactly what in-process
/// tiles compute, so the maps are the serial engine's bits. A lost tile (its silo died, its activation went, a call
/// timed out) ends the attempt; the image is solved again from its warm start, which the owner still holds, over a
/// fresh set of tiles, which gives the same bits again. It blocks the calling thread (a compute slot of the owner's
/// silo) round by round.
/// </summary>
internal sealed class GrainTileHost(IGrainFactory grains, MessageHeader header, int shard, MessageLimits limits, CancellationToken cancellationToken) : ITileHost
{
    /// <summary>Attempts at one image's solve before the loss is the shard command's (which the coordinator retries in turn).</summary>
    public const int MaxAttempts = 4;

    /// <summary>Attempts restarted after a lost tile, over this host's solves.</summary>
    public int Restarts { get; private set; }

    public (SparseMaps Maps, TiledSolveStats Stats) Solve(TiledImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return SolveOnce(image);
            }
            catch (Exception e) when (attempt < MaxAttempts && !cancellationToken.IsCancellationRequested && IsLoss(e))
            {
                Restarts++;
                DistributedTelemetry.TileRestarts.Add(1);
            }
        }
    }

    /// <summary>A tile gone with its activation or silo, or its chunks gone with it: worth solving again over fresh tiles.</summary>
    private static bool IsLoss(Exception e) => e switch
    {
        TileLostException or PayloadMissingException => true,
        AggregateException { InnerExceptions.Count: > 0 } a => a.InnerExceptions.All(IsLoss),
        _ => TransientFaults.IsTransient(e),
    };

    private (SparseMaps Maps, TiledSolveStats Stats) SolveOnce(TiledImage image)
    {
        using var span = DistributedTelemetry.StartSpan(TelemetryNames.Spans.TileSolve, header);
        span?.SetTag(TelemetryNames.Tags.Shard, shard);
        Guid solve = Guid.NewGuid();
        ITileGrain[] tiles = [.. image.Plan.Select((_, t) => grains.GetGrain<ITileGrain>(TileKey.Format(header.Job, shard, solve, t)))];
        try
        {
            Wait(Task.WhenAll(image.Plan.Select((rect, t) => OpenAsync(tiles[t], image, rect))));
            int round = 0;
            TiledSolveStats stats = TiledCoordinateDescent.Solve(image.Geometry, image.Plan, image.Options, steps =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                int r = round++;
                TileStepResult[] results = Wait(Task.WhenAll(steps.Select((step, t) => StepAsync(tiles[t], r, step))));
                DistributedTelemetry.TileRounds.Add(1);
                return results;
            });
            (int[] Positions, float[] Values)[] owned = Wait(Task.WhenAll(tiles.Select(CollectAsync)));
            span?.SetTag(TelemetryNames.Tags.Bytes, stats.BytesDelivered);
            return (TileFrame.Gather(image.Geometry, image.Plan, owned), stats);
        }
        finally
        {
            // Best effort: a tile not closed (its silo gone, or the call failed) is collected when idle like any activation.
            try
            {
                Wait(Task.WhenAll(tiles.Select(t => t.CloseAsync(header))));
            }
            catch (Exception e) when (IsLoss(e))
            {
            }
        }
    }

    private async Task OpenAsync(ITileGrain tile, TiledImage image, TileRect rect)
    {
        TileFrame frame = TileFrame.Cut(image.Geometry, rect, image.Y, image.Warm);
        // One inline budget for the message: what does not fit is staged on the tile in chunks first.
        var budget = new InlineBudget(limits);
        async Task<Payload> Send(byte[] bytes)
        {
            DistributedTelemetry.TileBytes.Add(bytes.LongLength, new KeyValuePair<string, object?>(TelemetryNames.Tags.TileKind, "open"));
            return await PayloadTransfer.SendAsync(tile, header, bytes, limits, budget, cancellationToken);
        }
        var filters = new TensorBlob { Shape = TensorWire.ShapeOf(image.Filters), Data = await Send(FloatBytes.From(image.Filters.Data)) };
        var patch = new TensorBlob { Shape = TensorWire.ShapeOf(frame.Patch), Data = await Send(FloatBytes.From(frame.Patch.Data)) };
        Payload positions = await Send(FloatBytes.From(frame.Positions)), values = await Send(FloatBytes.From(frame.Values));
        await tile.OpenAsync(new TileOpen
        {
            Header = header,
            Inputs = image.Geometry.Inputs,
            Maps = image.Geometry.Maps,
            FilterSize = image.Geometry.FilterSize,
            Rows = image.Geometry.Rows,
            Cols = image.Geometry.Cols,
            Boundary = image.Geometry.Boundary,
            Connectivity = image.Connectivity.ToArray(),
            Filters = filters,
            Lambda = image.Lambda,
            OwnedRow = rect.Row,
            OwnedCol = rect.Col,
            OwnedRows = rect.Rows,
            OwnedCols = rect.Cols,
            Patch = patch,
            Positions = positions,
            Values = values,
        });
    }

    /// <summary>Fixed fields of a step and of its reply, counted with the moves as a round's bytes.</summary>
    private const int StepFieldBytes = 4 * sizeof(int) + 4 * sizeof(float);

    private async Task<TileStepResult> StepAsync(ITileGrain tile, int round, TileStep step)
    {
        byte[] incoming = BorderMoveWire.From(step.Incoming);
        Payload payload = await PayloadTransfer.SendAsync(tile, header, incoming, limits, cancellationToken);
        TileStepReply reply = await tile.StepAsync(new TileStepCommand
        {
            Header = header,
            Round = round,
            Phase = step.Phase,
            Tolerance = step.Tolerance,
            Scale = step.Scale,
            Refresh = step.Refresh,
            Incoming = payload,
        });
        byte[] outgoing = await PayloadTransfer.FetchAsync(tile, header, reply.Outgoing, cancellationToken);
        DistributedTelemetry.TileBytes.Add(incoming.LongLength + outgoing.LongLength + StepFieldBytes, new KeyValuePair<string, object?>(TelemetryNames.Tags.TileKind, "step"));
        return new TileStepResult(reply.Moves, reply.MovesSinceRestart, reply.Scale, reply.OwnedMax, BorderMoveWire.To(outgoing));
    }

    private async Task<(int[] Positions, float[] Values)> CollectAsync(ITileGrain tile)
    {
        TileOwnedMaps owned = await tile.CollectAsync(header);
        byte[] positions = await PayloadTransfer.FetchAsync(tile, header, owned.Positions, cancellationToken);
        byte[] values = await PayloadTransfer.FetchAsync(tile, header, owned.Values, cancellationToken);
        DistributedTelemetry.TileBytes.Add(positions.LongLength + values.LongLength, new KeyValuePair<string, object?>(TelemetryNames.Tags.TileKind, "collect"));
        int[] at = FloatBytes.ToInts(positions);
        return (at, FloatBytes.To(values, at.Length));
    }

    /// <summary>Blocks for a round: the solve's loop is Compute's and synchronous; the calls themselves run on Orleans.</summary>
    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private static void Wait(Task task) => task.GetAwaiter().GetResult();
}
