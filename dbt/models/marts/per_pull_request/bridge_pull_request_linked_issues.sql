-- Grain: one row per pull request x issue it closes (`closingIssuesReferences`).
-- Incremental: the rows of the PRs loaded since the last build are replaced, those of
-- PRs whose list emptied or that left raw are deleted (macros/incremental.sql).

with

linked_issues as (

    select * from {{ ref('stg_github__pull_request_linked_issues') }}
    where {{ loaded_since_last_build() }}

),

final as (

    select
        pull_request_id,
        repo,
        pr_number,
        issue_id,
        issue_repo,
        issue_number,
        issue_title,
        issue_state,
        loaded_at
    from linked_issues

)

select * from final
