{#- Models go to the schema their folder names (staging, intermediate, marts), as is, so the
    published snapshot and the dashboards can name them plainly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}
