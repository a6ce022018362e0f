from jobs_mcp.cli import main

main()
