using System.Text.Json;
using Npgsql;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The query runners read objects as row values and write their JSON in the service (<see cref="RecordJson"/>): every
/// value must read exactly as PostgreSQL's own <c>json_build_object</c> renders it — the same number text, the same string
/// escapes, the same timestamp form — or a response would change with the statement's shape. Each value below is read
/// both ways from one statement and compared token by token, raw text included.
/// </summary>
public sealed class RecordJsonTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly string[] Values =
    [
        "'plain'::text", "'quote \" backslash \\ slash / tab \t newline \n cr \r'::text", "E'\\x01\\x08\\x0c\\x1f\\x7f'::text",
        "'ümlaut 日本 😀 \u2028'::text", "''::text", "'abc'::varchar(5)", "'ab'::char(4)", "'nm'::name",
        "0::int2", "(-32768)::int2", "2147483647::int4", "(-2147483648)::int4", "9223372036854775807::int8",
        "(-9223372036854775808)::int8", "12::oid",
        "0.1::float8", "1e20::float8", "1e15::float8", "123456789012345.0::float8", "1e-5::float8", "0.0001::float8",
        "(-2.5)::float8", "'NaN'::float8", "'Infinity'::float8", "'-Infinity'::float8", "(1.0/3)::float8", "5e-324::float8",
        "1.5::float4", "0.1::float4", "3.4e38::float4",
        "0::numeric", "1.50::numeric", "(-1234567.000100)::numeric", "0.000012::numeric", "100000000::numeric",
        "12345678901234567890.12345678901234567890::numeric", "'NaN'::numeric", "(-0.5)::numeric", "10000::numeric(10,2)",
        "true", "false",
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
        "'2026-01-10 20:00:00+00'::timestamptz", "'2026-01-10 20:00:00.5+00'::timestamptz",
        "'2026-01-10 20:00:00.123456+00'::timestamptz", "'2026-01-10 20:00:00.000010+00'::timestamptz",
        "'1999-12-31 23:59:59.999999+00'::timestamptz", "'1970-01-01 00:00:00+00'::timestamptz",
        "'2000-02-29 12:00:00+00'::timestamptz", "'1900-03-01 00:00:00+00'::timestamptz", "'0044-03-15 12:00:00+00'::timestamptz",
        "'0044-03-15 12:00:00+00 BC'::timestamptz", "'12345-06-07 08:09:10+00'::timestamptz",
        "'infinity'::timestamptz", "'-infinity'::timestamptz",
        "'2026-01-10 20:00:00.25'::timestamp", "'2026-01-10'::date", "'0001-01-01 BC'::date", "'infinity'::date",
        "'{\"a\": [1, 2.50, \"x\"], \"b\": null}'::json", "'{\"b\":1,\"a\":  [true, {\"c\": \"ü\\n\"}]}'::jsonb",
        "'\"a string\"'::jsonb", "'3.10'::jsonb",
        "'\\x00ff10'::bytea", "ARRAY['a', 'b\"', NULL]::text[]", "ARRAY[1, 2, 3]::int8[]", "ARRAY[[1, 2], [3, 4]]::int4[]",
        "'{}'::int4[]", "ARRAY[1.5, 'NaN']::float8[]", "ARRAY['2026-01-10 20:00:00+00']::timestamptz[]",
        "'5'::xid8", "NULL::text", "NULL::int8", "NULL::jsonb",
    ];

    [Fact]
    public async Task Every_value_reads_as_postgresqls_own_json_renders_it()
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using (var zone = new NpgsqlCommand("SET TimeZone = 'UTC'", connection))
            await zone.ExecuteNonQueryAsync();
        var entity = new EntityMap { TypeName = "Sample", Relation = "sample", Key = ["k"] };
        var fields = Values.Select((_, i) => (ShapeField)new ColumnField("v" + i, new ColumnMap("v" + i, "v" + i, ScalarKind.String, true)))
            .Prepend(new TypenameField("__typename")).ToList();
        var shape = new ObjectShape(entity, fields);
        // json_build_object takes at most 100 arguments: pairs in chunks of 50, merged by the test
        var chunks = Values.Select((v, i) => (v, i)).Chunk(50)
            .Select(c => "json_build_object(" + string.Join(", ", c.Select(x => $"'v{x.i}', {x.v}")) + ")::text");
        await using var command = new NpgsqlCommand(
            $"SELECT ROW({string.Join(", ", Values)}), {string.Join(", ", chunks)}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var json = new RecordJson();
        var written = json.Write(reader, 0, shape);
        var expected = new Dictionary<string, string>();
        for (var c = 1; c < reader.FieldCount; c++)
        {
            using var part = JsonDocument.Parse(reader.GetString(c));
            foreach (var property in part.RootElement.EnumerateObject())
                expected[property.Name] = Canonical(property.Value);
        }

        using var document = JsonDocument.Parse(written.Text);
        var actual = document.RootElement.EnumerateObject().ToList();
        Assert.Equal("Sample", actual[0].Value.GetString());
        Assert.Equal(Values.Length + 1, actual.Count);
        for (var i = 0; i < Values.Length; i++)
        {
            Assert.Equal("v" + i, actual[i + 1].Name);
            Assert.True(expected["v" + i] == Canonical(actual[i + 1].Value),
                $"{Values[i]}: PostgreSQL writes {expected["v" + i]}, the service {Canonical(actual[i + 1].Value)}");
        }
    }

    [Fact]
    public async Task Nested_rows_and_arrays_of_rows_become_objects_and_lists_with_their_shapes_keys()
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var entity = new EntityMap { TypeName = "Outer", Relation = "outer", Key = ["k"] };
        var inner = new EntityMap { TypeName = "Inner", Relation = "inner", Key = ["k"] };
        var relation = new RelationMap("items", "Inner", RelationKind.Many, [("k", "k")]);
        var innerShape = new ObjectShape(inner, [
            new ColumnField("n", new ColumnMap("n", "n", ScalarKind.Int, false)),
            new ColumnField("state", new ColumnMap("state", "state", ScalarKind.Enum, false)),
            new TypenameField("kind"),
        ]);
        var shape = new ObjectShape(entity, [
            new ColumnField("name", new ColumnMap("name", "name", ScalarKind.String, false)),
            new RelationField("items", relation, innerShape, new RelatedList(null, [], 10)),
            new RelationField("none", relation, innerShape, new RelatedList(null, [], 10)),
            new RelationField("one", relation, innerShape, null),
            new RelationField("missing", relation, innerShape, null),
        ]);
        await using var command = new NpgsqlCommand(
            "SELECT ROW('outer', ARRAY(SELECT ROW(n, 'st_' || n) FROM generate_series(1, 3) n ORDER BY n), " +
            "ARRAY(SELECT ROW(1, 'x') WHERE false), (SELECT ROW(7, 'done'::text)), (SELECT ROW(1, 'x') WHERE false))", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var json = new RecordJson();
        var written = json.Write(reader, 0, shape);
        Assert.Equal(
            """{"name":"outer","items":[{"n":1,"state":"ST_1","kind":"Inner"},{"n":2,"state":"ST_2","kind":"Inner"},""" +
            """{"n":3,"state":"ST_3","kind":"Inner"}],"none":[],"one":{"n":7,"state":"DONE","kind":"Inner"},"missing":null}""",
            written.Text);
    }

    [Fact]
    public async Task A_writer_kept_between_requests_writes_each_row_as_a_new_one_does_also_when_rows_shrink_and_threads_share()
    {
        var entity = new EntityMap { TypeName = "Outer", Relation = "outer", Key = ["k"] };
        var shape = new ObjectShape(entity, [
            new ColumnField("n", new ColumnMap("n", "n", ScalarKind.Int, false)),
            new ColumnField("text", new ColumnMap("text", "text", ScalarKind.String, false)),
        ]);
        // long and short rows in turn: a kept writer's buffers are larger than the next row
        var sizes = new[] { 70_000, 3, 5_000, 0, 300_000, 12 };
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            await using var connection = await db.DataSource.OpenConnectionAsync();
            await using var command = new NpgsqlCommand(
                "SELECT ROW(n, repeat(chr(97 + n % 26), n) || $1::text) FROM unnest($2::int[]) WITH ORDINALITY u(n, i) ORDER BY i",
                connection);
            command.Parameters.AddWithValue(worker.ToString(System.Globalization.CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue(sizes);
            await using var reader = await command.ExecuteReaderAsync();
            var i = 0;
            while (await reader.ReadAsync())
            {
                var kept = RecordJson.WriteOne(reader, 0, shape).Text;
                var fresh = new RecordJson().Write(reader, 0, shape).Text;
                Assert.Equal(fresh, kept);
                Assert.Equal($$"""{"n":{{sizes[i]}},"text":"{{new string((char)('a' + sizes[i] % 26), sizes[i])}}{{worker}}"}""", kept);
                i++;
            }
            Assert.Equal(sizes.Length, i);
        })));
    }

    [Fact]
    public async Task Keys_of_id_fields_become_the_global_ids_the_api_encodes()
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var entity = new EntityMap { TypeName = "WorkflowTrace", Relation = "workflow_trace", Key = ["id"] };
        ColumnField Id(string name, string type, ScalarKind kind) =>
            new(name, new ColumnMap(name, name, kind, true) { GlobalType = type });
        var shape = new ObjectShape(entity,
            [Id("a", "WorkflowTrace", ScalarKind.Long), Id("b", "WorkflowTrace", ScalarKind.Long), Id("c", "WorkflowStep", ScalarKind.Long),
             Id("d", "WorkflowNode", ScalarKind.Int), Id("e", "Workflow", ScalarKind.Uuid), Id("f", "WorkflowStep", ScalarKind.Long)]);
        await using var command = new NpgsqlCommand(
            "SELECT ROW(1::int8, 9223372036854775807::int8, (-5)::int8, 2147483647::int4, " +
            "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid, NULL::int8)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        using var written = JsonDocument.Parse(new RecordJson().Write(reader, 0, shape).Text);
        var ids = written.RootElement;
        Assert.Equal(GlobalId.Encode("WorkflowTrace", "1"), ids.GetProperty("a").GetString());
        Assert.Equal(GlobalId.Encode("WorkflowTrace", "9223372036854775807"), ids.GetProperty("b").GetString());
        Assert.Equal(GlobalId.Encode("WorkflowStep", "-5"), ids.GetProperty("c").GetString());
        Assert.Equal(GlobalId.Encode("WorkflowNode", "2147483647"), ids.GetProperty("d").GetString());
        Assert.Equal(GlobalId.Encode("Workflow", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), ids.GetProperty("e").GetString());
        Assert.Equal(JsonValueKind.Null, ids.GetProperty("f").ValueKind);
    }

    /// <summary>A value as comparable text: primitives as their raw JSON text (number text and string escapes as written),
    /// objects and arrays by their members' (key order kept, whitespace not).</summary>
    private static string Canonical(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object =>
            "{" + string.Join(",", element.EnumerateObject().Select(p => JsonSerializer.Serialize(p.Name) + ":" + Canonical(p.Value)))
                + "}",
        JsonValueKind.Array => "[" + string.Join(",", element.EnumerateArray().Select(Canonical)) + "]",
        _ => element.GetRawText(),
    };
}
