{% test no_rows(model, condition) %}
{#- Fails with the rows of `model` that match `condition`. -#}
select * from {{ model }}
where {{ condition }}
{% endtest %}
