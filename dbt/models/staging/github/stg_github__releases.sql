-- One row per published release (raw.releases renamed).

with

source as (

    select * from {{ source('github', 'releases') }}

),

renamed as (

    select
        node_id                 as release_id,
        repo,
        tag_name,
        published_at,
        commit_oid,
        run_id,
        loaded_at
    from source

)

select * from renamed
