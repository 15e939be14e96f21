-- Grain: one row per pull request x label (labels on the PR when last fetched).
-- Incremental: the rows of the PRs loaded since the last build are replaced, those of
-- PRs whose list emptied or that left raw are deleted (macros/incremental.sql).

with

labels as (

    select * from {{ ref('stg_github__pull_request_labels') }}
    where {{ loaded_since_last_build() }}

),

final as (

    select
        pull_request_id,
        repo,
        pr_number,
        label_name,
        label_id,
        label_color,
        loaded_at
    from labels

)

select * from final
