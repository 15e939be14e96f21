-- Grain: one row per pull request x label (labels on the PR when last fetched).

with

labels as (

    select * from {{ ref('stg_github__pull_request_labels') }}

),

final as (

    select
        pull_request_id,
        repo,
        pr_number,
        label_name,
        label_id,
        label_color
    from labels

)

select * from final
