-- Grain: one row per repository label (repo + label name) found on at least one pull
-- request. Id and color come from the most recently updated PR carrying it.

with

-- The bridge and the fact, not staging: tables kept incrementally, so this dimension
-- costs a scan of them instead of unnesting every PR's JSON.
labels as (

    select * from {{ ref('bridge_pull_request_labels') }}

),

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

ranked as (

    select
        labels.repo,
        labels.label_name,
        labels.label_id,
        labels.label_color,
        count(*) over (partition by labels.repo, labels.label_name) as pull_request_count,
        row_number() over (
            partition by labels.repo, labels.label_name
            order by pull_requests.updated_at desc, labels.pull_request_id
        ) as recency
    from labels
    inner join pull_requests
        on labels.pull_request_id = pull_requests.pull_request_id

),

final as (

    select
        repo,
        label_name,
        label_id,
        label_color,
        pull_request_count
    from ranked
    where recency = 1

)

select * from final
