-- One row per commit of a repository's default branch read so far (accumulated across
-- runs). Its committed date orders it in the branch's history.

with

source as (

    select * from {{ source('github', 'default_branch_commits') }}

),

renamed as (

    select
        repo,
        oid                     as commit_oid,
        committed_at,
        run_id,
        loaded_at
    from source

)

select * from renamed
