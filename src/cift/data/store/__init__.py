"""Market-data stores: the embedded Parquet catalog and QuestDB."""
