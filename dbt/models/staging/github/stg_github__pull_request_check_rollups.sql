-- One row per pull request whose head commit's checks were fetched: GitHub's combined
-- rollup state (null when the head commit has no checks at all) and how many contexts
-- it lists.

with

source as (

    select * from {{ source('github', 'pull_request_checks') }}

),

renamed as (

    select
        node_id                                                 as pull_request_id,
        rollup ->> '$.state'                                    as checks_state,
        coalesce(json_array_length(rollup -> '$.contexts'), 0)  as context_count,
        fetched_at,
        loaded_at
    from source

)

select * from renamed
