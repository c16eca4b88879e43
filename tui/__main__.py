from papers.tui.cli import main

main()
