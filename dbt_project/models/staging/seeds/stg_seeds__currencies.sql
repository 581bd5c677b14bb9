with

source as (
    select * from {{ ref('currencies') }}
),

renamed as (
    select
        upper(trim(code)) as currency_code,
        cast(minor_units as integer) as minor_units,
        trim(name) as currency_name
    from source
)

select * from renamed
