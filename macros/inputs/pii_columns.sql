{#- Which column names hold personal data: one pattern, read by staging and by the PII checks. -#}

{% macro pii_column_pattern() %}
    {#-
        Column names (normalised) that hold personal data: contact details, names, addresses,
        birth dates, identity and payment numbers. Such columns never leave staging; has_email
        (a flag) is not personal data. The test assert_no_pii_downstream_of_staging and
        tests/python/test_bad_input.py scan every model outside staging with it.
    -#}
    {{ return(
        '(.*e_?mail.*|.*(phone|mobile|fax).*|.*(address|street|post_?code|postal_code|zip_?code).*'
        ~ '|(.*_)?(first|last|full|given|middle|maiden|customer|person|contact)_?name|surname|name'
        ~ '|.*(birth_?date|date_of_birth|birthday|dob).*'
        ~ '|.*(ssn|social_security|national_id|passport|tax_id|iban|credit_card|card_number'
        ~ '|ip_address|password).*)'
    ) }}
{% endmacro %}


{% macro is_pii_column(name) %}
    {#- Whether the column `name` holds personal data by pii_column_pattern (has_email does not). -#}
    {{ return(name | lower != 'has_email'
              and modules.re.fullmatch(pii_column_pattern(), name | lower) is not none) }}
{% endmacro %}
