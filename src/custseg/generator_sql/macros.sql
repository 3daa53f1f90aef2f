create macro u(key, salt) as (
    ((hash(key + salt) >> 11)::double + 0.5) / 9007199254740992.0
);
create macro std_normal(key, salt_a, salt_b) as (
    sqrt(-2 * ln(u(key, salt_a))) * cos(2 * pi() * u(key, salt_b))
);
create macro pick(items, uniform) as (
    items[1 + floor(uniform * len(items))::integer]
);
-- Stray whitespace or casing around a clean value.
create macro messy(value, uniform) as case
    when uniform < 0.3 then upper(value)
    when uniform < 0.55 then ' ' || upper(value[1]) || value[2:] || ' '
    when uniform < 0.8 then '  ' || value
    else lower(value) || '  '
end;
