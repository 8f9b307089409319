using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using Npgsql;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Querying;

/// <summary>
/// Writes the row values of <see cref="Emit.ObjectSql.Record"/> as the JSON objects GraphQL returns, straight from
/// PostgreSQL's binary format into UTF-8: a record is its field count, then each field's type OID, length (-1: null) and
/// bytes; an array its dimensions, element type and elements. The shape gives the keys (and <c>__typename</c>), the OIDs
/// the encoding. Every value reads as PostgreSQL's own JSON would render it (<c>json_build_object</c>: ISO-8601
/// timestamps in UTC, which every request transaction sets; numbers; strings escaped as <c>escape_json</c> does;
/// json and jsonb as they are), enums upper-cased as GraphQL names them. A type not listed here is refused, not guessed.
/// </summary>
public sealed class RecordJson
{
    private const uint BoolOid = 16, ByteaOid = 17, NameOid = 19, Int8Oid = 20, Int2Oid = 21, Int4Oid = 23, TextOid = 25,
        OidOid = 26, JsonOid = 114, Float4Oid = 700, Float8Oid = 701, UnknownOid = 705, BpcharOid = 1042, VarcharOid = 1043,
        DateOid = 1082, TimestampOid = 1114, TimestampTzOid = 1184, NumericOid = 1700, RecordOid = 2249, RecordArrayOid = 2287,
        UuidOid = 2950, JsonbOid = 3802, Xid8Oid = 5069;

    // 2000-01-01, PostgreSQL's epoch, as days from 0000-03-01 (the civil-date algorithm's origin)
    private const long EpochDays = 730_425;

    private static readonly SearchValues<byte> Escaped = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\']);

    // PostgreSQL's MAXDIM
    private const int MaxDimensions = 6;

    // buffers larger than this are not kept for the next request
    private const int MaxKeptBytes = 256 * 1024;

    [ThreadStatic]
    private static RecordJson? _cached;

    // one row's JSON is written here, then copied out in one piece: the writer grows once to the largest row of a page,
    // not by doubling over the whole page (which copied every page several times and reached the large object heap)
    private readonly ArrayBufferWriter<byte> _out = new(1024);
    private byte[] _scratch = [];

    /// <summary>A writer for one request's rows: the thread's cached one when it has one, so that its buffers (grown to
    /// the rows read before) are not allocated and grown again for every request. Give it back with <see cref="Return"/>.</summary>
    public static RecordJson Rent()
    {
        var json = _cached;
        if (json is null)
            return new RecordJson();
        _cached = null;
        return json;
    }

    /// <summary>One record with a rented writer (<see cref="Rent"/>).</summary>
    public static RawJson WriteOne(NpgsqlDataReader reader, int ordinal, ObjectShape shape, string? typeName = null)
    {
        var json = Rent();
        try
        {
            return json.Write(reader, ordinal, shape, typeName);
        }
        finally
        {
            Return(json);
        }
    }

    /// <summary>Keeps <paramref name="json"/> for the next request on this thread, unless its buffers grew large.</summary>
    public static void Return(RecordJson json)
    {
        if (json._scratch.Length <= MaxKeptBytes && json._out.Capacity <= MaxKeptBytes)
            _cached = json;
    }

    /// <summary>The record in column <paramref name="ordinal"/> (not null) as the JSON object of <paramref name="shape"/>,
    /// for an object of <paramref name="typeName"/> when its field is abstract (<c>node</c>).</summary>
    public RawJson Write(NpgsqlDataReader reader, int ordinal, ObjectShape shape, string? typeName = null)
    {
        _out.ResetWrittenCount();
        using (var stream = reader.GetStream(ordinal))
        {
            var length = checked((int)stream.Length);
            if (_scratch.Length < length)
                _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
            stream.ReadExactly(_scratch, 0, length);
            WriteRecord(_scratch.AsSpan(0, length), shape);
        }
        return new RawJson(_out.WrittenSpan.ToArray(), typeName);
    }

    private void WriteRecord(ReadOnlySpan<byte> data, ObjectShape shape)
    {
        var count = BinaryPrimitives.ReadInt32BigEndian(data);
        var position = 4;
        var read = 0;
        Raw("{"u8);
        // by index: a foreach over the interface would allocate an enumerator for every record of every row
        var fields = shape.Fields;
        for (var f = 0; f < fields.Count; f++)
        {
            var field = fields[f];
            if (f > 0)
                Raw(","u8);
            Key(field.ResponseKey);
            if (field is TypenameField)
            {
                Name(shape.Entity.TypeName);
                continue;
            }
            if (read++ == count)
                throw Unexpected($"{shape.Entity.TypeName} has {count} values for more fields");
            var oid = BinaryPrimitives.ReadUInt32BigEndian(data[position..]);
            var length = BinaryPrimitives.ReadInt32BigEndian(data[(position + 4)..]);
            position += 8;
            if (length < 0)
            {
                Raw("null"u8);
                continue;
            }
            var value = data.Slice(position, length);
            position += length;
            switch (field)
            {
                case ColumnField { Column: { Kind: ScalarKind.Enum, GlobalType: null } } when oid is TextOid:
                    UpperString(value);
                    break;
                case ColumnField { Column: { GlobalType: { } type, Expression: null } }:
                    GlobalId(type, oid, value);
                    break;
                case RelationField relation:
                    Value(oid, value, relation.Target);
                    break;
                default:
                    Value(oid, value, null);
                    break;
            }
        }
        if (read != count)
            throw Unexpected($"{shape.Entity.TypeName} has {count} values for {read} fields");
        Raw("}"u8);
    }

    private void Value(uint oid, ReadOnlySpan<byte> value, ObjectShape? shape)
    {
        switch (oid)
        {
            case RecordOid when shape is not null:
                WriteRecord(value, shape);
                break;
            case RecordArrayOid when shape is not null:
            case var _ when IsArray(value, oid):
                WriteArray(value, shape);
                break;
            case BoolOid:
                Raw(value[0] != 0 ? "true"u8 : "false"u8);
                break;
            case Int2Oid:
                Number(BinaryPrimitives.ReadInt16BigEndian(value));
                break;
            case Int4Oid:
                Number(BinaryPrimitives.ReadInt32BigEndian(value));
                break;
            case Int8Oid:
                Number(BinaryPrimitives.ReadInt64BigEndian(value));
                break;
            case Float4Oid:
                Float(BinaryPrimitives.ReadSingleBigEndian(value), single: true);
                break;
            case Float8Oid:
                Float(BinaryPrimitives.ReadDoubleBigEndian(value), single: false);
                break;
            case NumericOid:
                Numeric(value);
                break;
            case TextOid or VarcharOid or BpcharOid or NameOid or UnknownOid:
                String(value);
                break;
            case JsonOid:
                Raw(value);
                break;
            case JsonbOid:
                if (value.Length == 0 || value[0] != 1)
                    throw Unexpected("jsonb of an unknown binary version");
                Raw(value[1..]);
                break;
            case UuidOid:
                Uuid(value);
                break;
            case TimestampTzOid:
                Timestamp(BinaryPrimitives.ReadInt64BigEndian(value), zone: true);
                break;
            case TimestampOid:
                Timestamp(BinaryPrimitives.ReadInt64BigEndian(value), zone: false);
                break;
            case DateOid:
                Date(BinaryPrimitives.ReadInt32BigEndian(value));
                break;
            case OidOid:
                Quoted(BinaryPrimitives.ReadUInt32BigEndian(value));
                break;
            case Xid8Oid:
                Quoted(BinaryPrimitives.ReadUInt64BigEndian(value));
                break;
            case ByteaOid:
                Bytea(value);
                break;
            default:
                throw Unexpected($"a value of type OID {oid}, which responses do not carry");
        }
    }

    // the element types of arrays PostgreSQL sends: int2, int4, int8, text, varchar, float8, bool, uuid, timestamptz, jsonb
    private static bool IsArray(ReadOnlySpan<byte> value, uint oid) =>
        oid is 1005 or 1007 or 1016 or 1009 or 1015 or 1022 or 1000 or 2951 or 1185 or 3807 or 199 or 1231 or 1182 or 1115
        && value.Length >= 12;

    private void WriteArray(ReadOnlySpan<byte> data, ObjectShape? shape)
    {
        var dimensions = BinaryPrimitives.ReadInt32BigEndian(data);
        var element = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
        if (dimensions == 0)
        {
            Raw("[]"u8);
            return;
        }
        if (dimensions > MaxDimensions)
            throw Unexpected($"an array of {dimensions} dimensions");
        Span<int> sizes = stackalloc int[dimensions];
        for (var d = 0; d < dimensions; d++)
            sizes[d] = BinaryPrimitives.ReadInt32BigEndian(data[(12 + d * 8)..]);
        var position = 12 + dimensions * 8;
        WriteDimension(data, ref position, sizes, 0, element, shape);
    }

    private void WriteDimension(ReadOnlySpan<byte> data, ref int position, ReadOnlySpan<int> sizes, int dimension, uint element,
        ObjectShape? shape)
    {
        Raw("["u8);
        for (var i = 0; i < sizes[dimension]; i++)
        {
            if (i > 0)
                Raw(","u8);
            if (dimension + 1 < sizes.Length)
            {
                WriteDimension(data, ref position, sizes, dimension + 1, element, shape);
                continue;
            }
            var length = BinaryPrimitives.ReadInt32BigEndian(data[position..]);
            position += 4;
            if (length < 0)
            {
                Raw("null"u8);
                continue;
            }
            Value(element, data.Slice(position, length), shape);
            position += length;
        }
        Raw("]"u8);
    }

    /// <summary>A key as its global id: unpadded base64url of <c>Type:key</c> (<see cref="Model.GlobalId.Encode"/>).</summary>
    private void GlobalId(string type, uint oid, ReadOnlySpan<byte> value)
    {
        Span<byte> text = stackalloc byte[type.Length + 1 + 36];
        var length = System.Text.Encoding.UTF8.GetBytes(type, text);
        text[length++] = (byte)':';
        var key = text[length..];
        int written;
        switch (oid)
        {
            case Int8Oid:
                Utf8Formatter.TryFormat(BinaryPrimitives.ReadInt64BigEndian(value), key, out written);
                break;
            case Int4Oid:
                Utf8Formatter.TryFormat(BinaryPrimitives.ReadInt32BigEndian(value), key, out written);
                break;
            case UuidOid:
                for (int i = 0, at = 0; i < 16; i++)
                {
                    if (i is 4 or 6 or 8 or 10)
                        key[at++] = (byte)'-';
                    key[at++] = Hex(value[i] >> 4);
                    key[at++] = Hex(value[i] & 0xF);
                }
                written = 36;
                break;
            case TextOid:
                // an id the statement already encoded (a masked id column)
                String(value);
                return;
            default:
                throw Unexpected($"a key of type OID {oid} for an id of {type}");
        }
        length += written;
        var encoded = System.Buffers.Text.Base64Url.GetEncodedLength(length);
        var span = _out.GetSpan(encoded + 2);
        span[0] = (byte)'"';
        System.Buffers.Text.Base64Url.EncodeToUtf8(text[..length], span[1..], out _, out var bytes);
        span[bytes + 1] = (byte)'"';
        _out.Advance(bytes + 2);
    }

    private static InvalidOperationException Unexpected(string what) => new($"reading a row value: {what}");

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_out.GetSpan(bytes.Length));
        _out.Advance(bytes.Length);
    }

    // response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*)
    private void Key(string key)
    {
        Name(key);
        Raw(":"u8);
    }

    /// <summary>A GraphQL name (a type's) as a JSON string: ASCII, nothing to escape.</summary>
    private void Name(string name)
    {
        var span = _out.GetSpan(name.Length + 2);
        span[0] = (byte)'"';
        for (var i = 0; i < name.Length; i++)
            span[i + 1] = (byte)name[i];
        span[name.Length + 1] = (byte)'"';
        _out.Advance(name.Length + 2);
    }

    private void Number(long value)
    {
        var span = _out.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        _out.Advance(written);
    }

    private void Quoted(ulong value)
    {
        Raw("\""u8);
        var span = _out.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        _out.Advance(written);
        Raw("\""u8);
    }

    /// <summary>As float8out/float4out write it: the shortest digits that read back the same, in fixed notation for decimal
    /// exponents from -4 below 15 (6 for float4), otherwise as <c>1e+20</c>; NaN and the infinities, which JSON numbers
    /// cannot hold, as strings (as <c>json_build_object</c> quotes them).</summary>
    private void Float(double value, bool single)
    {
        if (double.IsNaN(value))
        {
            Raw("\"NaN\""u8);
            return;
        }
        if (double.IsInfinity(value))
        {
            Raw(value > 0 ? "\"Infinity\""u8 : "\"-Infinity\""u8);
            return;
        }
        // the shortest round-trip digits and the decimal exponent of the first, from .NET's "E" form of them
        var shortest = single
            ? ((float)value).ToString("R", CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest[0] == '-';
        var mark = shortest.IndexOf('E', StringComparison.Ordinal);
        var mantissa = mark < 0 ? shortest : shortest[..mark];
        var exponent = mark < 0 ? 0 : int.Parse(shortest[(mark + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var unsigned = negative ? mantissa[1..] : mantissa;
        var point = unsigned.IndexOf('.', StringComparison.Ordinal);
        var digits = unsigned.Replace(".", "", StringComparison.Ordinal);
        var leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        if (digits.Length == 0)
        {
            Raw(negative ? "-0"u8 : "0"u8);
            return;
        }
        // the first significant digit's power of ten
        exponent += (point < 0 ? unsigned.Length : point) - 1 - leading;
        var text = new System.Text.StringBuilder(32);
        if (negative)
            text.Append('-');
        if (exponent >= -4 && exponent < (single ? 6 : 15))
        {
            if (exponent < 0)
                text.Append("0.").Append('0', -exponent - 1).Append(digits);
            else if (digits.Length <= exponent + 1)
                text.Append(digits).Append('0', exponent + 1 - digits.Length);
            else
                text.Append(digits, 0, exponent + 1).Append('.').Append(digits, exponent + 1, digits.Length - exponent - 1);
        }
        else
        {
            text.Append(digits[0]);
            if (digits.Length > 1)
                text.Append('.').Append(digits, 1, digits.Length - 1);
            text.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("D2", CultureInfo.InvariantCulture));
        }
        Raw(System.Text.Encoding.ASCII.GetBytes(text.ToString()));
    }

    /// <summary>numeric's binary form (digit count, weight, sign, display scale, base-10000 digits) as numeric_out writes it.</summary>
    private void Numeric(ReadOnlySpan<byte> value)
    {
        var count = BinaryPrimitives.ReadInt16BigEndian(value);
        var weight = BinaryPrimitives.ReadInt16BigEndian(value[2..]);
        var sign = BinaryPrimitives.ReadUInt16BigEndian(value[4..]);
        var scale = BinaryPrimitives.ReadInt16BigEndian(value[6..]);
        switch (sign)
        {
            case 0xC000:
                Raw("\"NaN\""u8);
                return;
            case 0xD000:
                Raw("\"Infinity\""u8);
                return;
            case 0xF000:
                Raw("\"-Infinity\""u8);
                return;
        }
        var digits = new short[count];
        for (var i = 0; i < count; i++)
            digits[i] = BinaryPrimitives.ReadInt16BigEndian(value[(8 + i * 2)..]);
        short digit(int i) => i >= 0 && i < count ? digits[i] : (short)0;
        var text = new System.Text.StringBuilder();
        if (sign == 0x4000)
            text.Append('-');
        if (weight < 0)
            text.Append('0');
        else
        {
            for (var i = 0; i <= weight; i++)
                text.Append(digit(i).ToString(i == 0 ? "D" : "D4", CultureInfo.InvariantCulture));
        }
        if (scale > 0)
        {
            text.Append('.');
            var fraction = new System.Text.StringBuilder();
            for (var i = weight + 1; fraction.Length < scale; i++)
                fraction.Append(digit(i).ToString("D4", CultureInfo.InvariantCulture));
            text.Append(fraction.ToString(0, scale));
        }
        Raw(System.Text.Encoding.ASCII.GetBytes(text.ToString()));
    }

    /// <summary>A JSON string of UTF-8 text, escaped as PostgreSQL's escape_json does: quote, backslash, the short escapes,
    /// other control characters as <c>\u00xx</c>; everything else as it is.</summary>
    private void String(ReadOnlySpan<byte> text)
    {
        Raw("\""u8);
        while (true)
        {
            var next = text.IndexOfAny(Escaped);
            if (next < 0)
            {
                Raw(text);
                break;
            }
            Raw(text[..next]);
            var b = text[next];
            switch (b)
            {
                case (byte)'"': Raw("\\\""u8); break;
                case (byte)'\\': Raw("\\\\"u8); break;
                case (byte)'\b': Raw("\\b"u8); break;
                case (byte)'\f': Raw("\\f"u8); break;
                case (byte)'\n': Raw("\\n"u8); break;
                case (byte)'\r': Raw("\\r"u8); break;
                case (byte)'\t': Raw("\\t"u8); break;
                default:
                    var span = _out.GetSpan(6);
                    "\\u00"u8.CopyTo(span);
                    span[4] = Hex(b >> 4);
                    span[5] = Hex(b & 0xF);
                    _out.Advance(6);
                    break;
            }
            text = text[(next + 1)..];
        }
        Raw("\""u8);
    }

    /// <summary>An enum's stored value as its GraphQL name: upper-cased (ASCII, as the values are).</summary>
    private void UpperString(ReadOnlySpan<byte> text)
    {
        Span<byte> upper = text.Length <= 256 ? stackalloc byte[text.Length] : new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
            upper[i] = text[i] is >= (byte)'a' and <= (byte)'z' ? (byte)(text[i] - 32) : text[i];
        String(upper);
    }

    private static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private void Uuid(ReadOnlySpan<byte> value)
    {
        var span = _out.GetSpan(38);
        span[0] = (byte)'"';
        var at = 1;
        for (var i = 0; i < 16; i++)
        {
            if (i is 4 or 6 or 8 or 10)
                span[at++] = (byte)'-';
            span[at++] = Hex(value[i] >> 4);
            span[at++] = Hex(value[i] & 0xF);
        }
        span[at++] = (byte)'"';
        _out.Advance(at);
    }

    private void Bytea(ReadOnlySpan<byte> value)
    {
        var span = _out.GetSpan(value.Length * 2 + 5);
        "\"\\\\x"u8.CopyTo(span);
        var at = 4;
        foreach (var b in value)
        {
            span[at++] = Hex(b >> 4);
            span[at++] = Hex(b & 0xF);
        }
        span[at++] = (byte)'"';
        _out.Advance(at);
    }

    /// <summary>Microseconds from 2000-01-01 as PostgreSQL's JSON writes them (XSD style): <c>2026-01-10T20:00:00.5+00:00</c>,
    /// fractional seconds without trailing zeros, years before 1 as <c>… BC</c>, the infinities as strings.</summary>
    private void Timestamp(long microseconds, bool zone)
    {
        if (microseconds is long.MaxValue or long.MinValue)
        {
            Raw(microseconds == long.MaxValue ? "\"infinity\""u8 : "\"-infinity\""u8);
            return;
        }
        var days = Math.DivRem(microseconds, 86_400_000_000L, out var ofDay);
        if (ofDay < 0)
        {
            days--;
            ofDay += 86_400_000_000L;
        }
        var (year, month, day) = Civil(days);
        var seconds = Math.DivRem(ofDay, 1_000_000L, out var fraction);
        var span = _out.GetSpan(48);
        span[0] = (byte)'"';
        var at = WriteDate(span, 1, year, month, day);
        span[at++] = (byte)'T';
        at = Digits(span, at, seconds / 3600, 2);
        span[at++] = (byte)':';
        at = Digits(span, at, seconds / 60 % 60, 2);
        span[at++] = (byte)':';
        at = Digits(span, at, seconds % 60, 2);
        if (fraction != 0)
        {
            var width = 6;
            while (fraction % 10 == 0)
            {
                fraction /= 10;
                width--;
            }
            span[at++] = (byte)'.';
            at = Digits(span, at, fraction, width);
        }
        if (zone)
        {
            "+00:00"u8.CopyTo(span[at..]);
            at += 6;
        }
        at = Era(span, at, year);
        span[at++] = (byte)'"';
        _out.Advance(at);
    }

    private void Date(int daysFromEpoch)
    {
        if (daysFromEpoch is int.MaxValue or int.MinValue)
        {
            Raw(daysFromEpoch == int.MaxValue ? "\"infinity\""u8 : "\"-infinity\""u8);
            return;
        }
        var (year, month, day) = Civil(daysFromEpoch);
        var span = _out.GetSpan(24);
        span[0] = (byte)'"';
        var at = Era(span, WriteDate(span, 1, year, month, day), year);
        span[at++] = (byte)'"';
        _out.Advance(at);
    }

    // PostgreSQL writes the year 0 as 1 BC, -1 as 2 BC; years of more than four digits in full
    private static int WriteDate(Span<byte> span, int at, long year, int month, int day)
    {
        var shown = year > 0 ? year : 1 - year;
        at = Digits(span, at, shown, Math.Max(4, (int)Math.Floor(Math.Log10(shown)) + 1));
        span[at++] = (byte)'-';
        at = Digits(span, at, month, 2);
        span[at++] = (byte)'-';
        return Digits(span, at, day, 2);
    }

    private static int Era(Span<byte> span, int at, long year)
    {
        if (year > 0)
            return at;
        " BC"u8.CopyTo(span[at..]);
        return at + 3;
    }

    private static int Digits(Span<byte> span, int at, long value, int width)
    {
        for (var i = width - 1; i >= 0; i--)
        {
            span[at + i] = (byte)('0' + value % 10);
            value /= 10;
        }
        return at + width;
    }

    /// <summary>Days from 2000-01-01 as a proleptic Gregorian date (years counted astronomically: 0 is 1 BC).</summary>
    private static (long Year, int Month, int Day) Civil(long daysFromEpoch)
    {
        var z = daysFromEpoch + EpochDays;
        var era = (z >= 0 ? z : z - 146_096) / 146_097;
        var dayOfEra = z - era * 146_097;
        var yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        var dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        var mp = (5 * dayOfYear + 2) / 153;
        var day = (int)(dayOfYear - (153 * mp + 2) / 5 + 1);
        var month = (int)(mp < 10 ? mp + 3 : mp - 9);
        var year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        return (year, month, day);
    }
}
