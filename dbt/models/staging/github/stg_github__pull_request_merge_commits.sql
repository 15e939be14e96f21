-- One row per merged pull request: the oid of its merge commit (`mergeCommit`).

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

renamed as (

    select
        node_id                             as pull_request_id,
        repo,
        pr ->> '$.mergeCommit.oid'          as merge_commit_oid,
        loaded_at
    from source
    where pr ->> '$.mergeCommit.oid' is not null

)

select * from renamed
