namespace Distributed.Compute.Training;

/// <summary>How images are split over shards: contiguous blocks in image order, sizes differing by at most one.</summary>
public static class ShardPlan
{
    public static IReadOnlyList<IReadOnlyList<int>> Partition(int images, int shards)
    {
        if (images < 1) throw new ArgumentOutOfRangeException(nameof(images), images, "there are no images to train on.");
        if (shards < 1) throw new ArgumentOutOfRangeException(nameof(shards), shards, "shards must be ≥ 1.");
        shards = Math.Min(shards, images);
        var plan = new List<IReadOnlyList<int>>(shards);
        int start = 0;
        for (int s = 0; s < shards; s++)
        {
            int count = images / shards + (s < images % shards ? 1 : 0);
            plan.Add(Enumerable.Range(start, count).ToArray());
            start += count;
        }
        return plan;
    }
}
