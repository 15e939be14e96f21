-- One row per deployment (raw.deployments renamed). Its statuses are in
-- stg_github__deployment_statuses.

with

source as (

    select * from {{ source('github', 'deployments') }}

),

renamed as (

    select
        node_id                 as deployment_id,
        repo,
        environment,
        commit_oid,
        created_at,
        creator_login,
        read_at,
        run_id,
        loaded_at
    from source

)

select * from renamed
