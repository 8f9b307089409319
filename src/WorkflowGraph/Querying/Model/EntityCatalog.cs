namespace WorkflowGraph.Querying.Model;

/// <summary>Every entity map the features register, linked to each other once the SDL has been read.</summary>
public sealed class EntityCatalog
{
    private readonly Dictionary<string, EntityMap> _maps = new(StringComparer.Ordinal);

    public IEnumerable<EntityMap> Maps => _maps.Values;

    public EntityCatalog Add(EntityMap map)
    {
        _maps.Add(map.TypeName, map);
        return this;
    }

    public EntityMap? Find(string typeName) => _maps.GetValueOrDefault(typeName);

    public EntityMap Get(string typeName) =>
        Find(typeName) ?? throw new InvalidOperationException($"no entity map for GraphQL type {typeName}");

    /// <summary>Resolves relation targets; throws when a relation names an unknown type.</summary>
    public void Link()
    {
        foreach (var map in _maps.Values)
            foreach (var relation in map.Relations)
                relation.Target = Get(relation.TargetType);
    }
}
