using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Npgsql;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>A group's key: the values of the plan's dimensions (null where the plan does not group by one).</summary>
public readonly record struct StatsKey(Guid? Workflow, string? Channel, string? Status, int? Node, DateTime? Bucket);

/// <summary>
/// Merges the cells of <see cref="StatsSql"/> into groups and gives them their measures, order and page — the work
/// PostgreSQL did in the statement before, with the same rules, so the answers are the same to the last digit:
/// <list type="bullet">
/// <item>a group is counted only when it has rows (the SQL's <c>HAVING sum(n) &lt;&gt; 0</c>);</item>
/// <item><c>successRate</c> is completed ÷ finished (statuses that are not open) × 100, rounded half away from zero to
/// hundredths, null without finished rows; <c>avg</c> the duration sum ÷ timed rows as double;</item>
/// <item>a percentile is the value of the bucket holding the nearest rank ceil(q · n) (at least 1) of the merged
/// histogram, held between the exact min and max, then rounded as PostgreSQL rounds <c>float8::numeric</c> (15
/// significant digits) to hundredths;</item>
/// <item>the order is the plan's, nulls last, then every key ascending (uuids in byte order, texts ordinally).</item>
/// </list>
/// Groups are bounded (<c>GraphQL:MaxStatsGroups</c>): a cell that would open one more is refused with
/// <c>STATS_TOO_MANY_GROUPS</c>, so a hostile grouping cannot grow the service's memory without end.
/// </summary>
public sealed class StatsGroups(StatsPlan plan, int maxGroups)
{
    /// <summary>r = 1.02 / 0.98: a bucket's bounds are r apart, its value the point within 2% of both (db/migrations/030).</summary>
    private static readonly double Ratio = 1.02 / 0.98;

    /// <summary>p50, p90, p95, p99 in hundredths.</summary>
    private static readonly int[] QuantileHundredths = [50, 90, 95, 99];

    private readonly Dictionary<StatsKey, StatsGroup> _groups = [];

    private readonly string[] _keys = [.. StatsSql.Columns(plan)];
    private bool _asOfRead;

    // the histogram of the row being read, as PostgreSQL sent it (grown as needed, kept for the next row)
    private byte[] _histogram = new byte[1024];

    // the channel and status labels met so far (enum values: a handful), so a row's labels are not new strings
    private readonly List<(byte[] Utf8, string Text)> _labels = [];
    private byte[] _label = new byte[64];

    // a folded row's counts per status, as PostgreSQL sent them
    private byte[] _statuses = new byte[256];

    public DateTime? AsOf { get; private set; }

    /// <summary>Adds the reader's current row: <c>as_of</c>, the plan's dimensions in order, then the cell's columns.</summary>
    public void Add(NpgsqlDataReader reader)
    {
        // the same on every row: read from the first
        if (!_asOfRead)
        {
            _asOfRead = true;
            AsOf = reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTime>(0);
        }
        var at = 1;
        Guid? workflow = null;
        string? channel = null, status = null;
        int? node = null;
        DateTime? bucket = null;
        foreach (var dimension in plan.Dimensions)
        {
            var column = at++;
            if (reader.IsDBNull(column))
                continue;
            switch (dimension)
            {
                case StatsDimension.Workflow:
                    workflow = reader.GetGuid(column);
                    break;
                case StatsDimension.Channel:
                    channel = Label(Raw(reader, column, ref _label));
                    break;
                case StatsDimension.Status:
                    status = Label(Raw(reader, column, ref _label));
                    break;
                case StatsDimension.Node:
                    node = reader.GetInt32(column);
                    break;
                default:
                    bucket = reader.GetFieldValue<DateTime>(column);
                    break;
            }
        }
        // the one row of an empty answer has no cell
        if (reader.IsDBNull(at + 1))
            return;
        var key = new StatsKey(workflow, channel, status, node, bucket);
        if (!_groups.TryGetValue(key, out var group))
        {
            if (_groups.Count >= maxGroups)
                throw StatsErrors.TooManyCells(maxGroups);
            _groups[key] = group = new StatsGroup(key);
        }
        var count = reader.GetInt64(at + 1);
        group.Count += count;
        if (reader.IsDBNull(at))
            AddStatuses(group, Raw(reader, at + 7, ref _statuses));
        else
            AddStatus(group, Label(Raw(reader, at, ref _label)), count);
        group.Timed += reader.GetInt64(at + 2);
        group.Total += reader.GetInt64(at + 3);
        if (!reader.IsDBNull(at + 4))
        {
            var lo = reader.GetInt64(at + 4);
            group.Min = group.Min is { } min && min <= lo ? min : lo;
        }
        if (!reader.IsDBNull(at + 5))
        {
            var hi = reader.GetInt64(at + 5);
            group.Max = group.Max is { } max && max >= hi ? max : hi;
        }
        if (reader.IsDBNull(at + 6))
            return;
        // the buckets' array, then the counts' (db/migrations/052)
        var histogram = Raw(reader, at + 6, ref _histogram);
        var n = Elements(histogram, out var b);
        var counts = histogram[(b + n * 8)..];
        if (Elements(counts, out var c) != n)
            throw new InvalidDataException("a histogram's buckets and counts differ in length");
        for (var i = 0; i < n; i++)
        {
            var index = BinaryPrimitives.ReadInt32BigEndian(Element(histogram, ref b, 4));
            group.Histogram.Add(index, BinaryPrimitives.ReadInt64BigEndian(Element(counts, ref c, 8)));
        }
    }

    private static void AddStatus(StatsGroup group, string status, long count) =>
        group.ByStatus[status] = group.ByStatus.GetValueOrDefault(status) + count;

    /// <summary>
    /// A folded row's counts per status (db/migrations/054): the binary form of the labels' array (each element its
    /// length, then its UTF-8 bytes), then of the counts'.
    /// </summary>
    private void AddStatuses(StatsGroup group, ReadOnlySpan<byte> packed)
    {
        var n = Elements(packed, out var first);
        var end = first;
        for (var i = 0; i < n; i++)
            end += 4 + BinaryPrimitives.ReadInt32BigEndian(packed[end..]);
        var counts = packed[end..];
        if (Elements(counts, out var c) != n)
            throw new InvalidDataException("a folded row's statuses and counts differ in length");
        var at = first;
        for (var i = 0; i < n; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(packed[at..]);
            var status = Label(packed.Slice(at + 4, length));
            at += 4 + length;
            AddStatus(group, status, BinaryPrimitives.ReadInt64BigEndian(Element(counts, ref c, 8)));
        }
    }

    /// <summary>A channel's or status's label from its UTF-8 bytes: the string made when it was first met.</summary>
    private string Label(ReadOnlySpan<byte> utf8)
    {
        foreach (var (known, text) in _labels)
        {
            if (utf8.SequenceEqual(known))
                return text;
        }
        var label = Encoding.UTF8.GetString(utf8);
        _labels.Add((utf8.ToArray(), label));
        return label;
    }

    /// <summary>
    /// A column's value as PostgreSQL sent it, into <paramref name="buffer"/>: the histograms (arrays in their binary
    /// form) are decoded here, ~10x cheaper than through the driver's array converter, which was a fifth of a statistics
    /// page's service CPU; the labels are matched as bytes.
    /// </summary>
    private static ReadOnlySpan<byte> Raw(NpgsqlDataReader reader, int column, ref byte[] buffer)
    {
        using var stream = reader.GetStream(column);
        var length = (int)stream.Length;
        if (buffer.Length < length)
            buffer = new byte[Math.Max(length, buffer.Length * 2)];
        stream.ReadExactly(buffer, 0, length);
        return buffer.AsSpan(0, length);
    }

    /// <summary>
    /// The element count of a one-dimensional array in PostgreSQL's binary form (array_send: dimensions, null flag,
    /// element type, then length and lower bound per dimension), and where its first element starts.
    /// </summary>
    private static int Elements(ReadOnlySpan<byte> array, out int offset)
    {
        var dimensions = BinaryPrimitives.ReadInt32BigEndian(array);
        if (dimensions == 0)
        {
            offset = 12;
            return 0;
        }
        if (dimensions != 1 || BinaryPrimitives.ReadInt32BigEndian(array[4..]) != 0)
            throw new InvalidDataException("a histogram is not a one-dimensional array without nulls");
        offset = 20;
        return BinaryPrimitives.ReadInt32BigEndian(array[12..]);
    }

    /// <summary>The element at <paramref name="offset"/> (its length, then its bytes), which moves past it.</summary>
    private static ReadOnlySpan<byte> Element(ReadOnlySpan<byte> array, ref int offset, int size)
    {
        if (BinaryPrimitives.ReadInt32BigEndian(array[offset..]) != size)
            throw new InvalidDataException($"a histogram element is not {size} bytes long");
        var element = array.Slice(offset + 4, size);
        offset += 4 + size;
        return element;
    }

    /// <summary>Every group with rows, measured and in the plan's order (its position is its index + 1).</summary>
    public List<StatsGroup> Ordered()
    {
        var groups = new List<StatsGroup>(_groups.Count);
        foreach (var group in _groups.Values)
        {
            if (group.Count == 0)
                continue;
            Measure(group);
            groups.Add(group);
        }
        groups.Sort(Compare);
        return groups;
    }

    private void Measure(StatsGroup group)
    {
        long completed = 0;
        long? finished = null;
        var statuses = new KeyValuePair<string, long>[group.ByStatus.Count];
        var at = 0;
        foreach (var (status, count) in group.ByStatus)
        {
            if (status == "completed")
                completed += count;
            if (!plan.Subject.OpenStatuses.Contains(status))
                finished = (finished ?? 0) + count;
            if (count != 0)
                statuses[at++] = new(status, count);
        }
        Array.Resize(ref statuses, at);
        if (at > 1)
            Array.Sort(statuses, static (x, y) => string.CompareOrdinal(x.Key, y.Key));
        group.StatusCounts = statuses;
        group.SuccessHundredths = SuccessHundredths(completed, finished);
        group.Avg = group.Timed == 0 ? null : (double)group.Total / group.Timed;

        Span<int?> buckets = stackalloc int?[4];
        group.Histogram.NearestRanks(QuantileHundredths, buckets);
        for (var q = 0; q < buckets.Length; q++)
            group.Percentiles[q] = Percentile(buckets[q], group.Min, group.Max);
    }

    /// <summary><c>round(100.0 * completed / nullif(finished, 0), 2)::float8</c>: null without finished rows.</summary>
    public static double? SuccessRate(long completed, long? finished) => SuccessHundredths(completed, finished) / 100.0;

    /// <summary>
    /// The success rate in hundredths of a percent: 10,000 · completed ÷ finished rounded half away from zero, in whole
    /// numbers (counts are not negative). Its double, hundredths ÷ 100, is the double nearest the rate's decimal — what
    /// PostgreSQL's <c>numeric::float8</c> gives — since IEEE division rounds the exact quotient to the nearest.
    /// </summary>
    public static long? SuccessHundredths(long completed, long? finished)
    {
        if (finished is not ({ } f and not 0))
            return null;
        if (completed < 0 || f < 0)
            throw new InvalidDataException("a status count is negative");
        return (long)(((Int128)20_000 * completed + f) / (2 * (Int128)f));
    }

    /// <summary>What stats_bucket_value gives for a bucket (db/migrations/050).</summary>
    public static double BucketValue(int bucket) => bucket <= 0 ? 0 : 2 * Math.Pow(Ratio, bucket - 1) / (Ratio + 1);

    // every bucket's value, and that value rounded as below, made once (the text round trip per percentile was a tenth of
    // a series page's service CPU, Math.Pow per percentile a few percent more); durations up to bigint's largest lie in
    // buckets below 1,200
    private static readonly double[] BucketValues = [.. Enumerable.Range(0, 1200).Select(BucketValue)];

    internal static readonly double[] RoundedBucketValues =
        [.. Enumerable.Range(0, 1200).Select(bucket => Percentile(BucketValue(bucket), null, null)!.Value)];

    /// <summary>
    /// <see cref="Percentile(double?, long?, long?)"/> of a bucket's value: held to an exact min or max, that whole number
    /// itself; else the bucket's rounded value, computed once for all.
    /// </summary>
    public static double? Percentile(int? bucket, long? min, long? max)
    {
        if (bucket is not ({ } b and >= 0) || b >= RoundedBucketValues.Length)
            return Percentile(bucket is { } any ? BucketValue(any) : null, min, max);
        var value = BucketValues[b];
        long? held = null;
        if (min is { } lo && value < lo)
            (held, value) = (lo, lo);
        if (max is { } hi && value > hi)
            held = hi;
        if (held is { } whole)
            return Math.Abs(whole) < 100_000_000_000_000 ? whole : Percentile((double)whole, null, null);
        return RoundedBucketValues[b];
    }

    /// <summary>
    /// <c>round(least(greatest(value, min), max)::numeric, 2)::float8</c>: greatest and least skip nulls, and a float8
    /// becomes numeric through its 15 significant digits.
    /// </summary>
    public static double? Percentile(double? value, long? min, long? max)
    {
        var held = value;
        if (min is { } lo && (held is null || held < lo))
            held = lo;
        if (max is { } hi && (held is null || held > hi))
            held = hi;
        if (held is not { } v)
            return null;
        var numeric = decimal.Parse(v.ToString("G15", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
        return ToDouble(Math.Round(numeric, 2, MidpointRounding.AwayFromZero));
    }

    /// <summary>A numeric as PostgreSQL makes it a float8: through its text, so the nearest double.</summary>
    private static double ToDouble(decimal value) =>
        double.Parse(value.ToString(CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);

    private int Compare(StatsGroup a, StatsGroup b)
    {
        foreach (var order in plan.Order)
        {
            var result = CompareColumn(order.Column, a, b, order.Descending);
            if (result != 0)
                return result;
        }
        foreach (var column in _keys)
        {
            var result = CompareColumn(column, a, b, descending: false);
            if (result != 0)
                return result;
        }
        return 0;
    }

    /// <summary>
    /// PostgreSQL's order of uuids, by their 16 bytes as written: <see cref="Guid.CompareTo(Guid)"/> compares the fields
    /// as unsigned numbers in the order they are written, which is the same (<c>Database/StatsMeasureTests</c>).
    /// </summary>
    public static int UuidOrder(Guid x, Guid y) => x.CompareTo(y);

    /// <summary>One column of the order: nulls last in either direction.</summary>
    private static int CompareColumn(string column, StatsGroup a, StatsGroup b, bool descending)
    {
        static int Nulls<T>(T? x, T? y, bool descending, Func<T, T, int> compare) where T : struct =>
            (x, y) switch
            {
                (null, null) => 0,
                (null, _) => 1,
                (_, null) => -1,
                ({ } p, { } q) => descending ? compare(q, p) : compare(p, q),
            };
        static int Texts(string? x, string? y, bool descending) =>
            (x, y) switch
            {
                (null, null) => 0,
                (null, _) => 1,
                (_, null) => -1,
                _ => descending ? string.CompareOrdinal(y, x) : string.CompareOrdinal(x, y),
            };
        return column switch
        {
            "count" => Nulls<long>(a.Count, b.Count, descending, (x, y) => x.CompareTo(y)),
            "success_rate" => Nulls(a.SuccessRate, b.SuccessRate, descending, (x, y) => x.CompareTo(y)),
            "avg" => Nulls(a.Avg, b.Avg, descending, (x, y) => x.CompareTo(y)),
            "lo" => Nulls(a.Min, b.Min, descending, (x, y) => x.CompareTo(y)),
            "hi" => Nulls(a.Max, b.Max, descending, (x, y) => x.CompareTo(y)),
            "p50" => Nulls(a.Percentiles[0], b.Percentiles[0], descending, (x, y) => x.CompareTo(y)),
            "p90" => Nulls(a.Percentiles[1], b.Percentiles[1], descending, (x, y) => x.CompareTo(y)),
            "p95" => Nulls(a.Percentiles[2], b.Percentiles[2], descending, (x, y) => x.CompareTo(y)),
            "p99" => Nulls(a.Percentiles[3], b.Percentiles[3], descending, (x, y) => x.CompareTo(y)),
            "g_workflow" => Nulls(a.Key.Workflow, b.Key.Workflow, descending, UuidOrder),
            "g_channel" => Texts(a.Key.Channel, b.Key.Channel, descending),
            "g_status" => Texts(a.Key.Status, b.Key.Status, descending),
            "g_node" => Nulls(a.Key.Node, b.Key.Node, descending, (x, y) => x.CompareTo(y)),
            "g_bucket" => Nulls(a.Key.Bucket, b.Key.Bucket, descending, (x, y) => x.CompareTo(y)),
            _ => throw new ArgumentOutOfRangeException(nameof(column), column, "not a statistics column"),
        };
    }
}

/// <summary>One group: its key, what its cells add up to, and its measures once <see cref="StatsGroups.Ordered"/> ran.</summary>
public sealed class StatsGroup(StatsKey key)
{
    public StatsKey Key { get; } = key;
    public long Count { get; set; }
    public Dictionary<string, long> ByStatus { get; } = new(StringComparer.Ordinal);
    public long Timed { get; set; }
    public Int128 Total { get; set; }
    public long? Min { get; set; }
    public long? Max { get; set; }
    public StatsHistogram Histogram { get; } = new();
    public double? SuccessRate => SuccessHundredths / 100.0;
    public double? Avg { get; set; }

    /// <summary>p50, p90, p95, p99.</summary>
    public double?[] Percentiles { get; } = new double?[4];

    /// <summary>The group's statuses with rows, in text order, as countByStatus lists them.</summary>
    public KeyValuePair<string, long>[] StatusCounts { get; set; } = [];

    /// <summary><see cref="SuccessRate"/> in hundredths of a percent (0 to 10,000).</summary>
    public long? SuccessHundredths { get; set; }
}

/// <summary>
/// A merged duration histogram: the counts of a run of consecutive buckets, grown at either end as buckets arrive. Buckets
/// are dense where durations fall (at most <see cref="MaxBucket"/> + 1 of them), so adding a count is an index, not a
/// hash lookup; the percentiles walk it in bucket order without sorting.
/// </summary>
public sealed class StatsHistogram
{
    private long[] _counts = [];
    private int _used;

    /// <summary>The bucket of <see cref="Counts"/>' first element.</summary>
    public int First { get; private set; }

    /// <summary>The counts of buckets <see cref="First"/>, <see cref="First"/> + 1, …; zero where a bucket is empty.</summary>
    public ReadOnlySpan<long> Counts => _counts.AsSpan(0, _used);

    /// <summary>The durations counted.</summary>
    public long Total { get; private set; }

    /// <summary>
    /// The bucket holding the nearest rank ceil(q · n) (at least 1) of the n counted durations: null when none is counted.
    /// </summary>
    public int? NearestRank(decimal quantile)
    {
        var rank = Total == 0 ? 0 : (long)Math.Max(Math.Ceiling(quantile * Total), 1m);
        Span<int?> bucket = stackalloc int?[1];
        NearestRanks([rank], bucket);
        return bucket[0];
    }

    /// <summary><see cref="NearestRank"/> of each of <paramref name="hundredths"/> (q · 100, ascending) in one walk.</summary>
    public void NearestRanks(ReadOnlySpan<int> hundredths, Span<int?> buckets)
    {
        // ceil(q · n) exactly: (h · n + 99) div 100, in 128 bits
        Span<long> ranks = stackalloc long[hundredths.Length];
        for (var q = 0; q < hundredths.Length; q++)
            ranks[q] = Total == 0 ? 0 : Math.Max((long)(((Int128)hundredths[q] * Total + 99) / 100), 1);
        NearestRanks(ranks, buckets);
    }

    private void NearestRanks(ReadOnlySpan<long> ranks, Span<int?> buckets)
    {
        var counts = Counts;
        var q = 0;
        if (Total > 0)
        {
            long running = 0;
            for (var i = 0; i < counts.Length && q < ranks.Length; i++)
            {
                if (counts[i] == 0)
                    continue;
                running += counts[i];
                while (q < ranks.Length && running >= ranks[q])
                    buckets[q++] = First + i;
            }
        }
        for (; q < ranks.Length; q++)
            buckets[q] = null;
    }

    /// <summary>
    /// The highest bucket a duration can have: stats_duration_bucket of 2^63 - 1 ms is 1,094 (db/migrations/050). Counts
    /// are held for buckets 0 to this at most, ~9 kB per group.
    /// </summary>
    public const int MaxBucket = 1100;

    public void Add(int bucket, long count)
    {
        if (bucket is < 0 or > MaxBucket)
            throw new InvalidDataException($"histogram bucket {bucket} is outside 0-{MaxBucket}");
        Total = checked(Total + count);
        if (_used == 0)
        {
            if (_counts.Length == 0)
                _counts = new long[16];
            First = bucket;
            _used = 1;
            _counts[0] = count;
            return;
        }
        var at = bucket - First;
        if (at < 0)
        {
            // room below: the counts move up by what is missing and up to 8 spare buckets (zeros), never below bucket 0
            var spare = Math.Min(8, bucket);
            var shift = -at + spare;
            var grown = new long[Math.Max(_counts.Length, _used + shift)];
            Array.Copy(_counts, 0, grown, shift, _used);
            _counts = grown;
            First -= shift;
            _used += shift;
            _counts[spare] = count;
            return;
        }
        if (at >= _used)
        {
            if (at >= _counts.Length)
                Array.Resize(ref _counts, Math.Max(at + 1, Math.Min(_counts.Length * 2, MaxBucket + 1 - First)));
            _used = at + 1;
        }
        _counts[at] += count;
    }
}
