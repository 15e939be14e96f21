-- One row per pull request x issue it will close (`closingIssuesReferences`). The issue
-- may live in another repository (`issue_repo`). Null items are skipped; repeats kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

issues as (

    {{ unnest_pull_request_list(
        'source', "pr -> '$.closingIssuesReferences.nodes'", 'issue',
        unique_by="issue ->> '$.id'",
        where="issue ->> '$.id' is not null"
    ) }}

),

renamed as (

    select
        node_id                                          as pull_request_id,
        repo,
        pr_number,
        issue ->> '$.id'                                 as issue_id,
        issue ->> '$.repository.nameWithOwner'           as issue_repo,
        cast(issue ->> '$.number' as integer)            as issue_number,
        replace(issue ->> '$.title', chr(0), '')         as issue_title,
        issue ->> '$.state'                              as issue_state,
        loaded_at
    from issues

)

select * from renamed
