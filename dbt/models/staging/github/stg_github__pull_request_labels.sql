-- One row per pull request x label (the labels on the PR when it was last fetched).
-- Null connections and null list items are skipped; an item repeated by the load's page
-- merge (a list that changed while it was paged) is kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

labels as (

    {{ unnest_pull_request_list(
        'source', "pr -> '$.labels.nodes'", 'label',
        unique_by="label ->> '$.name'",
        where="label ->> '$.name' is not null",
        order_by="label ->> '$.id'"
    ) }}

),

renamed as (

    select
        node_id                                        as pull_request_id,
        repo,
        pr_number,
        label ->> '$.id'                               as label_id,
        replace(label ->> '$.name', chr(0), '')        as label_name,
        label ->> '$.color'                            as label_color,
        loaded_at
    from labels

)

select * from renamed
