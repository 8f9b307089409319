using System.Text.Json;
using GraphQL.Resolvers;
using WorkflowGraph.Database;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Mutations;

namespace WorkflowGraph.SchemaBinding;

/// <summary>Mutation fields, their payloads (object, result figures, errors) and the error types of the payloads' unions.</summary>
public static class MutationBindings
{
    public static void Bind(GraphModel model, FieldBindings fields, SdlTypes sdl)
    {
        if (!sdl.Objects.TryGetValue("Mutation", out var mutation))
            return;
        foreach (var field in SdlTypes.FieldsOf(mutation))
        {
            var name = field.Name.StringValue;
            if (!model.MutationFields.TryGetValue(name, out var spec))
                continue; // reported as unbound by FieldBindings.Verify
            VerifyIdInputs(name, spec, field, sdl);
            var payloadType = sdl.Objects[SdlTypes.NamedType(field.Type)];
            var errorsField = SdlTypes.FieldsOf(payloadType).FirstOrDefault(f => f.Name.StringValue == "errors");
            var allowed = errorsField is null ? [] : sdl.Unions.GetValueOrDefault(SdlTypes.NamedType(errorsField.Type)) ?? [];
            fields.Bind("Mutation", name, new FuncFieldResolver<object?>(context => new ValueTask<object?>(
                model.Mutator.ExecuteAsync(context, spec, context.RequestServices!.GetRequiredService<RequestDatabase>(), allowed))));
            foreach (var payloadField in SdlTypes.FieldsOf(payloadType))
            {
                var fieldName = payloadField.Name.StringValue;
                fields.Bind(payloadType.Name.StringValue, fieldName, PayloadResolver(spec, fieldName));
            }
        }
        foreach (var errorType in sdl.Unions.Values.SelectMany(u => u).Distinct())
        {
            fields.Builder.Types.For(errorType).IsTypeOfFunc = value => value is MutationError error && error.TypeName == errorType;
            fields.Bind<MutationError>(errorType, "message", error => error.Message);
            if (SdlTypes.FieldsOf(sdl.Objects[errorType]).Any(f => f.Name.StringValue == "fields"))
                fields.Bind<MutationError>(errorType, "fields", error => error.Fields ?? []);
        }
        if (sdl.Objects.ContainsKey("FieldError"))
        {
            fields.Bind<FieldProblem>("FieldError", "field", problem => problem.Field);
            fields.Bind<FieldProblem>("FieldError", "message", problem => problem.Message);
        }
    }

    /// <summary>An input field of type ID the mutation does not decode would reach SQL as the id's text: refuse to start.</summary>
    private static void VerifyIdInputs(string mutation, MutationSpec spec, GraphQLParser.AST.GraphQLFieldDefinition field, SdlTypes sdl)
    {
        var inputArgument = field.Arguments?.Items.FirstOrDefault(a => a.Name.StringValue == "input");
        if (inputArgument is null || !sdl.Inputs.TryGetValue(SdlTypes.NamedType(inputArgument.Type), out var input))
            return;
        var ids = (input.Fields?.Items ?? []).Where(f => SdlTypes.NamedType(f.Type) == "ID").Select(f => f.Name.StringValue);
        var undeclared = ids.Where(id => !spec.Ids.ContainsKey(id)).ToList();
        if (undeclared.Count > 0)
            throw new InvalidOperationException(
                $"{mutation}: input fields of type ID without a type to decode: {string.Join(", ", undeclared)}");
    }

    private static IFieldResolver PayloadResolver(MutationSpec spec, string field) => field switch
    {
        "errors" => new FuncFieldResolver<object?>(c => ((MutationPayload)c.Source!).Errors),
        _ when field == spec.PayloadField || spec.Also.Any(o => o.Field == field) => new RawJsonResolver(new FuncFieldResolver<object?>(c =>
            ((MutationPayload)c.Source!).Entities.GetValueOrDefault(FieldBindings.ResponseKey(c)))),
        _ => new FuncFieldResolver<object?>(c => PayloadResult((MutationPayload)c.Source!, field, spec.Deletes)),
    };

    /// <summary>A payload figure: the key a delete reported, or a column of the row a function returned.</summary>
    private static object? PayloadResult(MutationPayload payload, string field, EntityMap? deletes)
    {
        if (payload.Errors is not null || payload.Result is null)
            return null;
        if (field == "deletedId")
            return GlobalId.Encode((deletes ?? throw new InvalidOperationException("deletedId without a deleted type")).TypeName,
                payload.Result);
        using var document = JsonDocument.Parse(payload.Result);
        if (!document.RootElement.TryGetProperty(EntityMap.ColumnNameFor(field), out var value))
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetInt64(),
            JsonValueKind.Array => value.EnumerateArray().Select(v => v.GetString()).ToList(),
            JsonValueKind.Null => null,
            JsonValueKind.True or JsonValueKind.False => value.GetBoolean(),
            _ => value.ToString(),
        };
    }
}
