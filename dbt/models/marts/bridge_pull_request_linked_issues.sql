-- Grain: one row per pull request x issue it closes (`closingIssuesReferences`).

with

linked_issues as (

    select * from {{ ref('stg_github__pull_request_linked_issues') }}

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
        issue_state
    from linked_issues

)

select * from final
