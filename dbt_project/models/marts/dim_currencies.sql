-- ISO 4217 currencies and their minor units, for showing minor units as amounts.
select currency_code, minor_units, currency_name from {{ ref('stg_seeds__currencies') }}
