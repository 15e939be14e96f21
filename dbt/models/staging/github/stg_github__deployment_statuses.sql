-- One row per status of a deployment, in the order GitHub lists them (oldest first).

with

source as (

    select * from {{ source('github', 'deployments') }}

),

unnested as (

    select
        node_id                                                   as deployment_id,
        unnest(range(cast(json_array_length(statuses) as bigint))) as status_index,
        statuses,
        loaded_at
    from source

),

renamed as (

    select
        deployment_id,
        cast(status_index as integer) + 1                               as status_number,
        statuses ->> ('$[' || status_index || '].state')                as state,
        cast(statuses ->> ('$[' || status_index || '].createdAt') as timestamptz)
                                                                        as created_at,
        loaded_at
    from unnested

)

select * from renamed
