-- One row per pull request: the scalar fields of the raw GraphQL node, renamed to
-- snake_case and typed. Nested lists live in their own staging models.
-- Actors stay as GitHub returned them: a deleted account is a null login/kind here
-- (the marts show it as `ghost`).

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

renamed as (

    select
        -- ids
        node_id                                               as pull_request_id,
        repo,
        pr_number,

        -- text (NUL bytes dropped: they break most clients and exports)
        replace(pr ->> '$.title', chr(0), '')                  as title,
        replace(pr ->> '$.body', chr(0), '')                   as body,
        pr ->> '$.url'                                         as url,
        pr ->> '$.baseRefName'                                 as base_ref_name,
        pr ->> '$.headRefName'                                 as head_ref_name,

        -- status
        pr ->> '$.state'                                       as state,
        coalesce(cast(pr ->> '$.isDraft' as boolean), false)   as is_draft,
        pr ->> '$.reviewDecision'                              as review_decision,

        -- actors
        pr ->> '$.author.login'                                as author_login,
        pr ->> '$.author.__typename'                           as author_kind,
        pr ->> '$.mergedBy.login'                              as merged_by_login,
        pr ->> '$.mergedBy.__typename'                         as merged_by_kind,

        -- milestone
        pr ->> '$.milestone.id'                                as milestone_id,
        cast(pr ->> '$.milestone.number' as integer)           as milestone_number,
        replace(pr ->> '$.milestone.title', chr(0), '')        as milestone_title,
        pr ->> '$.milestone.state'                             as milestone_state,
        cast(pr ->> '$.milestone.dueOn' as timestamptz)        as milestone_due_on,

        -- size
        cast(pr ->> '$.additions' as integer)                  as additions,
        cast(pr ->> '$.deletions' as integer)                  as deletions,
        cast(pr ->> '$.changedFiles' as integer)               as changed_files,

        -- GitHub's totalCount of each connection (null when the connection is null)
        cast(pr ->> '$.labels.totalCount' as integer)          as labels_total_count,
        cast(pr ->> '$.assignees.totalCount' as integer)       as assignees_total_count,
        cast(pr ->> '$.closingIssuesReferences.totalCount' as integer)
                                                               as linked_issues_total_count,
        cast(pr ->> '$.reviews.totalCount' as integer)         as reviews_total_count,
        cast(pr ->> '$.reviewRequests.totalCount' as integer)  as review_requests_total_count,

        -- timestamps
        cast(pr ->> '$.createdAt' as timestamptz)              as created_at,
        cast(pr ->> '$.updatedAt' as timestamptz)              as updated_at,
        cast(pr ->> '$.closedAt' as timestamptz)               as closed_at,
        cast(pr ->> '$.mergedAt' as timestamptz)               as merged_at,

        -- lineage
        run_id,
        page_key,
        loaded_at

    from source

)

select * from renamed
