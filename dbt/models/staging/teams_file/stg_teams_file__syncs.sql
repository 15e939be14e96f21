-- One row per sync of the teams file: when it was read, the file, and how many teams it
-- listed (a sync of an empty or missing file counts: it says nobody is in a file team).

with

source as (

    select * from {{ source('teams_file', 'team_file_syncs') }}

),

renamed as (

    select
        synced_at,
        path,
        cardinality(cast(teams as map(varchar, varchar[])))    as team_count,
        loaded_at
    from source

)

select * from renamed
